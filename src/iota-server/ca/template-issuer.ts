/**
 * Device certificates from a precomputed DER template: the CA's fixed bytes are encoded once, each
 * certificate only splices in its serial, validity, CN, key, identity URI and key identifier, then signs.
 */

import { KeyObject, createHash, sign } from "node:crypto";
import { ECDSA_SHA256_ALGORITHM, TAG, concat, expectTlv, readTlv } from "../../core/der.ts";
import { DerWriter } from "../../core/der-writer.ts";

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

/** Issues IoTA device certificates for one CA with one signing key. */
export class TemplateIssuer {
  /** Signature algorithm and issuer Name, which sit between the serial and the validity. */
  private readonly algorithmAndIssuer: Uint8Array;
  /**
   * The signing key as node:crypto holds it. Hint: a synchronous sign on this key costs ~14 us of CPU; WebCrypto's
   * sign costs ~20 us, the difference being its hop to the thread pool and back, on every certificate.
   */
  private readonly key: KeyObject;
  /** Reused for every certificate: the TBSCertificate, then the signed certificate around it. */
  private readonly tbs = new DerWriter();
  private readonly certificate = new DerWriter();

  /**
   * @param caCertDer the CA certificate; its subject becomes the issuer, byte for byte.
   * @param authorityKeyIdExtension the complete AKI `Extension` DER, the same for every certificate.
   * @param signingKey the CA's ECDSA P-256 private key.
   */
  constructor(
    caCertDer: Uint8Array,
    private readonly authorityKeyIdExtension: Uint8Array,
    signingKey: CryptoKey,
  ) {
    this.algorithmAndIssuer = concat(ECDSA_SHA256_ALGORITHM, subjectNameDer(caCertDer));
    this.key = KeyObject.from(signingKey);
  }

  /** The TBSCertificate DER of a device certificate. */
  tbsCertificate(f: DeviceCertificateFields): Uint8Array<ArrayBuffer> {
    return this.writeTbs(f).slice();
  }

  /**
   * Writes the TBSCertificate back to front (see DerWriter) and returns it in place. Hint: one buffer and no
   * intermediate TLVs; ~5x cheaper than joining TLVs, for the same bytes.
   */
  private writeTbs(f: DeviceCertificateFields): Uint8Array<ArrayBuffer> {
    const w = this.tbs;
    w.reset();
    const tbs = w.mark();
    const extensions = w.mark();
    const subjectKeyId = w.mark();
    const keyId = w.mark();
    w.bytes(createHash("sha1").update(subjectPublicKeyBits(f.spki)).digest());
    w.wrap(TAG.OCTET_STRING, keyId).wrap(TAG.OCTET_STRING, keyId);
    w.bytes(OID_SUBJECT_KEY_ID).wrap(TAG.SEQUENCE, subjectKeyId);
    w.bytes(this.authorityKeyIdExtension);
    const altName = w.mark();
    const uri = w.mark();
    w.text(f.uri).wrap(0x86, uri).wrap(TAG.SEQUENCE, uri).wrap(TAG.OCTET_STRING, uri);
    w.bytes(OID_SUBJECT_ALT_NAME).wrap(TAG.SEQUENCE, altName);
    w.bytes(FIXED_EXTENSIONS).wrap(TAG.SEQUENCE, extensions).wrap(0xa3, extensions);
    w.bytes(f.spki);
    // Hint: the CN in the string type @peculiar/x509 picks: PrintableString when the name fits it.
    const subject = w.mark();
    w.text(f.commonName).wrap(
      PRINTABLE.test(f.commonName) ? TAG.PRINTABLE_STRING : TAG.UTF8_STRING,
      subject,
    );
    w.bytes(OID_COMMON_NAME).wrap(TAG.SEQUENCE, subject).wrap(TAG.SET, subject);
    w.wrap(TAG.SEQUENCE, subject);
    const validity = w.mark();
    writeTime(w, f.notAfter);
    writeTime(w, f.notBefore);
    w.wrap(TAG.SEQUENCE, validity);
    w.bytes(this.algorithmAndIssuer);
    writeUnsignedInteger(w, Buffer.from(f.serialHex, "hex"));
    w.bytes(VERSION_3).wrap(TAG.SEQUENCE, tbs);
    return w.view();
  }

  /** Builds, signs (ECDSA with SHA-256, the signature DER-encoded as X.509 carries it) and returns the certificate DER. */
  issue(f: DeviceCertificateFields): Uint8Array<ArrayBuffer> {
    const tbs = this.writeTbs(f);
    const signature = sign("sha256", tbs, { key: this.key, dsaEncoding: "der" });
    const w = this.certificate;
    w.reset();
    const certificate = w.mark();
    const bits = w.mark();
    w.bytes(signature).byte(0).wrap(TAG.BIT_STRING, bits);
    w.bytes(ECDSA_SHA256_ALGORITHM).bytes(tbs).wrap(TAG.SEQUENCE, certificate);
    return w.view().slice();
  }
}

/**
 * A certificate time (RFC 5280 4.1.2.5), as core/der.ts's certificateTime writes it: UTCTime through 2049,
 * GeneralizedTime from 2050, whole seconds, `Z`.
 */
function writeTime(w: DerWriter, epochMs: number): void {
  const d = new Date(epochMs);
  const year = d.getUTCFullYear();
  const time = w.mark();
  w.byte(0x5a).twoDigits(d.getUTCSeconds()).twoDigits(d.getUTCMinutes());
  w.twoDigits(d.getUTCHours())
    .twoDigits(d.getUTCDate())
    .twoDigits(d.getUTCMonth() + 1);
  w.twoDigits(year % 100);
  if (year >= 1950 && year < 2050) w.wrap(TAG.UTC_TIME, time);
  else w.twoDigits(Math.floor(year / 100)).wrap(TAG.GENERALIZED_TIME, time);
}

/** A DER INTEGER of unsigned big-endian `magnitude`, as core/der.ts's unsignedInteger writes it. */
function writeUnsignedInteger(w: DerWriter, magnitude: Uint8Array): void {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const integer = w.mark();
  w.bytes(magnitude.subarray(start));
  if ((magnitude[start] ?? 0) & 0x80) w.byte(0);
  w.wrap(TAG.INTEGER, integer);
}

/** PEM text of a certificate, 64 characters a line, ending in a newline (as `encodePem` writes it). */
export function certificatePem(der: Uint8Array): string {
  const body = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString("base64");
  // Hint: appended line by line, not pushed and joined: half the cost, without the array.
  let pem = "-----BEGIN CERTIFICATE-----\n";
  for (let i = 0; i < body.length; i += 64) pem += `${body.slice(i, i + 64)}\n`;
  return `${pem}-----END CERTIFICATE-----\n`;
}
