/**
 * A lean reader for the one CSR shape devices send (P-256 key, ecdsa-with-SHA256, a plain subject, no
 * attributes): a strict DER walk instead of a full ASN.1 object model. Anything else is left to @peculiar/x509.
 */

import {
  ECDSA_SHA256_ALGORITHM,
  TAG,
  contentsEqual,
  derToP1363,
  expectTlv,
  readTlv,
  type Tlv,
} from "../../core/der.ts";

/** The parts of a PKCS#10 request the checks need. */
export interface PlainCsr {
  /** The signed CertificationRequestInfo bytes. */
  info: Uint8Array<ArrayBuffer>;
  /** The SubjectPublicKeyInfo DER. */
  spki: Uint8Array<ArrayBuffer>;
  /** The signature as WebCrypto's r||s. */
  signature: Uint8Array<ArrayBuffer>;
  /** Every CN value of the subject, in order. */
  commonNames: string[];
}

/** AlgorithmIdentifier id-ecPublicKey with namedCurve prime256v1. */
const EC_P256_ALGORITHM = new Uint8Array(
  Buffer.from("301306072a8648ce3d020106082a8648ce3d030107", "hex"),
);
/** Everything of a canonical P-256 SubjectPublicKeyInfo before the point's 64 coordinate bytes. */
const CANONICAL_P256_SPKI_HEAD = new Uint8Array(
  Buffer.from("3059301306072a8648ce3d020106082a8648ce3d03010703420004", "hex"),
);
/** The length of a canonical P-256 SubjectPublicKeyInfo: the head, then X and Y of 32 bytes each. */
const CANONICAL_P256_SPKI_LENGTH = CANONICAL_P256_SPKI_HEAD.length + 64;
const OID_COMMON_NAME = new Uint8Array([0x55, 0x04, 0x03]);
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder("utf-8", { fatal: true });

/**
 * Whether `spki` is the one DER encoding RFC 5480 gives a P-256 key: the named curve (not explicit parameters)
 * and the uncompressed point (not compressed or hybrid). Every other encoding of the same key is refused, so
 * the bytes the service hashes and certifies identify the key itself. Whether the point lies on the curve is
 * WebCrypto's check, when it imports the key to verify the CSR.
 */
export function isCanonicalP256Spki(spki: Uint8Array): boolean {
  if (spki.length !== CANONICAL_P256_SPKI_LENGTH) return false;
  for (let i = 0; i < CANONICAL_P256_SPKI_HEAD.length; i++)
    if (spki[i] !== CANONICAL_P256_SPKI_HEAD[i]) return false;
  return true;
}

/** Whether the EC key in `spki` gives its curve by explicit parameters (a SEQUENCE) instead of a curve OID. */
export function hasExplicitCurve(spki: Uint8Array): boolean {
  try {
    const seq = expectTlv(spki, 0, TAG.SEQUENCE);
    const algorithm = expectTlv(spki, seq.body, TAG.SEQUENCE, seq.end);
    const oid = expectTlv(spki, algorithm.body, TAG.OID, algorithm.end);
    return oid.end < algorithm.end && spki[oid.end] === TAG.SEQUENCE;
  } catch {
    return false;
  }
}

/** The CN values of a Name whose attributes are all PrintableString or UTF8String; undefined otherwise. */
function commonNames(der: Uint8Array, name: Tlv): string[] | undefined {
  const found: string[] = [];
  for (let at = name.body; at < name.end; ) {
    const rdn = expectTlv(der, at, TAG.SET, name.end);
    for (let inner = rdn.body; inner < rdn.end; ) {
      const attr = expectTlv(der, inner, TAG.SEQUENCE, rdn.end);
      const oid = expectTlv(der, attr.body, TAG.OID, attr.end);
      const value = readTlv(der, oid.end, attr.end);
      if (value.end !== attr.end) return undefined;
      if (value.tag !== TAG.PRINTABLE_STRING && value.tag !== TAG.UTF8_STRING) return undefined;
      const bytes = der.subarray(value.body, value.end);
      if (contentsEqual(der, oid, OID_COMMON_NAME))
        found.push(value.tag === TAG.UTF8_STRING ? utf8.decode(bytes) : latin1.decode(bytes));
      inner = attr.end;
    }
    at = rdn.end;
  }
  return found;
}

/**
 * Whether `der` is framed as a PKCS#10 request: one SEQUENCE spanning exactly the input, holding exactly the
 * request info, the signature algorithm and the signature BIT STRING. Hint: the general parser tolerates a
 * wrong outer length or trailing bytes, which the signature does not cover; such a request is refused.
 */
export function hasCsrFrame(der: Uint8Array): boolean {
  try {
    const outer = expectTlv(der, 0, TAG.SEQUENCE);
    if (outer.end !== der.length) return false;
    const info = expectTlv(der, outer.body, TAG.SEQUENCE, outer.end);
    const algorithm = expectTlv(der, info.end, TAG.SEQUENCE, outer.end);
    return expectTlv(der, algorithm.end, TAG.BIT_STRING, outer.end).end === outer.end;
  } catch {
    return false;
  }
}

/**
 * Reads `der` as a device CSR of the plain shape; `undefined` when it is anything else (other key or
 * signature algorithms, attributes, unusual string types, malformed or trailing bytes), so the caller
 * falls back to the general parser and gives the same answer it always gave.
 */
export function readPlainCsr(der: Uint8Array<ArrayBuffer>): PlainCsr | undefined {
  try {
    const outer = expectTlv(der, 0, TAG.SEQUENCE);
    if (outer.end !== der.length) return undefined;
    const info = expectTlv(der, outer.body, TAG.SEQUENCE, outer.end);
    const version = expectTlv(der, info.body, TAG.INTEGER, info.end);
    if (version.end - version.body !== 1 || der[version.body] !== 0) return undefined;
    const subject = expectTlv(der, version.end, TAG.SEQUENCE, info.end);
    const spki = expectTlv(der, subject.end, TAG.SEQUENCE, info.end);
    const keyAlgorithm = expectTlv(der, spki.body, TAG.SEQUENCE, spki.end);
    if (!contentsEqual(der, { ...keyAlgorithm, body: keyAlgorithm.start }, EC_P256_ALGORITHM))
      return undefined;
    const point = expectTlv(der, keyAlgorithm.end, TAG.BIT_STRING, spki.end);
    if (
      point.end !== spki.end ||
      point.end - point.body !== 66 ||
      der[point.body] !== 0 ||
      der[point.body + 1] !== 0x04
    )
      return undefined;
    const attributes = expectTlv(der, spki.end, 0xa0, info.end);
    if (attributes.end !== info.end || attributes.end !== attributes.body) return undefined;
    const algorithm = expectTlv(der, info.end, TAG.SEQUENCE, outer.end);
    if (!contentsEqual(der, { ...algorithm, body: algorithm.start }, ECDSA_SHA256_ALGORITHM))
      return undefined;
    const bits = expectTlv(der, algorithm.end, TAG.BIT_STRING, outer.end);
    if (bits.end !== outer.end || der[bits.body] !== 0) return undefined;
    const names = commonNames(der, subject);
    if (!names) return undefined;
    return {
      info: der.subarray(info.start, info.end),
      spki: der.subarray(spki.start, spki.end),
      signature: derToP1363(der.subarray(bits.body + 1, bits.end), 32),
      commonNames: names,
    };
  } catch {
    // Hint: malformed input is not judged here; the general parser names the problem the way it always has.
    return undefined;
  }
}
