/**
 * Device certificates from a precomputed DER template: the CA's fixed bytes are encoded once, each
 * certificate only splices in its serial, validity, CN, key, identity URI and key identifier, then signs.
 */

import { createHash } from "node:crypto";
import { crypto } from "../../core/x509.ts";
import { ECDSA_SHA256 } from "../../core/csr.ts";
import {
  ECDSA_SHA256_ALGORITHM,
  TAG,
  certificateTime,
  concat,
  expectTlv,
  p1363ToDer,
  readTlv,
  tlv,
  unsignedInteger,
} from "../../core/der.ts";

/** The per-certificate fields of the IoTA device profile. */
export interface DeviceCertificateFields {
  /** Serial number as hex (positive; newSerial makes 16 bytes). */
  serialHex: string;
  /** Epoch ms, whole seconds. */
  notBefore: number;
  notAfter: number;
  /** Subject CN: the device name. */
  commonName: string;
  /** The device key's SubjectPublicKeyInfo DER, copied verbatim into the certificate. */
  spki: Uint8Array;
  /** SAN URI, `iota://tenant/group/device`. */
  uri: string;
}

const hex = (text: string): Uint8Array =>
  new Uint8Array(Buffer.from(text.replace(/\s+/g, ""), "hex"));
const ascii = new TextEncoder();

/** `[0] { INTEGER 2 }`: X.509 v3. */
const VERSION_3 = hex("a003 020102");
const OID_COMMON_NAME = hex("0603 550403");
const OID_SUBJECT_ALT_NAME = hex("0603 551d11");
const OID_SUBJECT_KEY_ID = hex("0603 551d0e");
/** basicConstraints critical CA:FALSE, keyUsage critical digitalSignature, extKeyUsage clientAuth. */
const FIXED_EXTENSIONS = hex(`
  300c 0603551d13 0101ff 0402 3000
  300e 0603551d0f 0101ff 0404 03020780
  3013 0603551d25 040c 300a 06082b06010505070302`);
/** The characters of ASN.1 PrintableString; @peculiar/x509 picks it over UTF8String when a value fits. */
const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

/** The subject Name of a certificate, DER, found by walking its TBSCertificate. */
export function subjectNameDer(certDer: Uint8Array): Uint8Array {
  const cert = expectTlv(certDer, 0, TAG.SEQUENCE);
  const tbs = expectTlv(certDer, cert.body, TAG.SEQUENCE, cert.end);
  let at = tbs.body;
  if (certDer[at] === 0xa0) at = readTlv(certDer, at, tbs.end).end;
  // Hint: serial, signature algorithm, issuer and validity come before the subject.
  for (let i = 0; i < 4; i++) at = readTlv(certDer, at, tbs.end).end;
  const subject = expectTlv(certDer, at, TAG.SEQUENCE, tbs.end);
  return certDer.subarray(subject.start, subject.end);
}

/** The public key bit string's contents (the EC point) inside a SubjectPublicKeyInfo. */
export function subjectPublicKeyBits(spki: Uint8Array): Uint8Array {
  const seq = expectTlv(spki, 0, TAG.SEQUENCE);
  const algorithm = expectTlv(spki, seq.body, TAG.SEQUENCE, seq.end);
  const bits = expectTlv(spki, algorithm.end, TAG.BIT_STRING, seq.end);
  // Hint: the first content byte counts unused bits; key identifiers hash what follows it.
  return spki.subarray(bits.body + 1, bits.end);
}

/** The CN attribute as a one-RDN Name, in the string type @peculiar/x509 would choose. */
function commonNameDer(name: string): Uint8Array {
  const type = PRINTABLE.test(name) ? TAG.PRINTABLE_STRING : TAG.UTF8_STRING;
  return tlv(
    TAG.SEQUENCE,
    tlv(TAG.SET, tlv(TAG.SEQUENCE, OID_COMMON_NAME, tlv(type, ascii.encode(name)))),
  );
}

/** Issues IoTA device certificates for one CA with one signing key. */
export class TemplateIssuer {
  /** Signature algorithm and issuer Name, which sit between the serial and the validity. */
  private readonly algorithmAndIssuer: Uint8Array;

  /**
   * @param caCertDer the CA certificate; its subject becomes the issuer, byte for byte.
   * @param authorityKeyIdExtension the complete AKI `Extension` DER, the same for every certificate.
   * @param signingKey the CA's ECDSA P-256 private key.
   */
  constructor(
    caCertDer: Uint8Array,
    private readonly authorityKeyIdExtension: Uint8Array,
    private readonly signingKey: CryptoKey,
  ) {
    this.algorithmAndIssuer = concat(ECDSA_SHA256_ALGORITHM, subjectNameDer(caCertDer));
  }

  /** The TBSCertificate DER of a device certificate. */
  tbsCertificate(f: DeviceCertificateFields): Uint8Array<ArrayBuffer> {
    const keyId = createHash("sha1").update(subjectPublicKeyBits(f.spki)).digest();
    const extensions = tlv(
      TAG.SEQUENCE,
      FIXED_EXTENSIONS,
      tlv(
        TAG.SEQUENCE,
        OID_SUBJECT_ALT_NAME,
        tlv(TAG.OCTET_STRING, tlv(TAG.SEQUENCE, tlv(0x86, ascii.encode(f.uri)))),
      ),
      this.authorityKeyIdExtension,
      tlv(TAG.SEQUENCE, OID_SUBJECT_KEY_ID, tlv(TAG.OCTET_STRING, tlv(TAG.OCTET_STRING, keyId))),
    );
    return tlv(
      TAG.SEQUENCE,
      VERSION_3,
      unsignedInteger(hex(f.serialHex)),
      this.algorithmAndIssuer,
      tlv(TAG.SEQUENCE, certificateTime(f.notBefore), certificateTime(f.notAfter)),
      commonNameDer(f.commonName),
      f.spki,
      tlv(0xa3, extensions),
    );
  }

  /** Builds, signs and returns the certificate DER. */
  async issue(f: DeviceCertificateFields): Promise<Uint8Array> {
    const tbs = this.tbsCertificate(f);
    const signature = new Uint8Array(await crypto.subtle.sign(ECDSA_SHA256, this.signingKey, tbs));
    return tlv(
      TAG.SEQUENCE,
      tbs,
      ECDSA_SHA256_ALGORITHM,
      tlv(TAG.BIT_STRING, Uint8Array.of(0), p1363ToDer(signature)),
    );
  }
}

/** PEM text of a certificate, 64 characters a line, ending in a newline (as `encodePem` writes it). */
export function certificatePem(der: Uint8Array): string {
  const body = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("base64");
  const lines: string[] = [];
  for (let i = 0; i < body.length; i += 64) lines.push(body.slice(i, i + 64));
  return `-----BEGIN CERTIFICATE-----\n${lines.join("\n")}\n-----END CERTIFICATE-----\n`;
}
