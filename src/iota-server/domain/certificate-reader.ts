/**
 * A lean reader for the device certificates IoTA issues: a strict DER walk to the serial, the key and the
 * identity URI, instead of a full ASN.1 object model. Anything it does not recognise is left to @peculiar/x509.
 */

import { TAG, contentsEqual, expectTlv, readTlv, type Tlv } from "../../core/der.ts";

/** What renewal needs from a device certificate. */
export interface DeviceCertificateView {
  /** The serial number as lowercase hex of the INTEGER's contents (as @peculiar/x509's `serialNumber`). */
  serial: string;
  /** The SubjectPublicKeyInfo DER. */
  spki: Uint8Array<ArrayBuffer>;
  /** The first URI of the subjectAltName extension, or undefined. */
  uri: string | undefined;
}

/** The subjectAltName extension's OID contents, 2.5.29.17. */
const OID_SUBJECT_ALT_NAME = Uint8Array.of(0x55, 0x1d, 0x11);
/** GeneralName `uniformResourceIdentifier` [6], IMPLICIT IA5String. */
const URI_TAG = 0x86;
const latin1 = new TextDecoder("latin1");

/** The first URI of a subjectAltName extension's value (GeneralNames), or undefined. */
function firstUri(der: Uint8Array, value: Tlv): string | undefined {
  const names = expectTlv(der, value.body, TAG.SEQUENCE, value.end);
  if (names.end !== value.end) throw new Error("trailing bytes after GeneralNames");
  for (let at = names.body; at < names.end; ) {
    const name = readTlv(der, at, names.end);
    if (name.tag === URI_TAG) return latin1.decode(der.subarray(name.body, name.end));
    at = name.end;
  }
  return undefined;
}

/**
 * Reads `der` as an X.509 v3 certificate far enough to give its serial, key and identity URI; `undefined` when
 * it is malformed or shaped otherwise (the caller then takes the general parser, which names the problem).
 */
export function readDeviceCertificate(
  der: Uint8Array<ArrayBuffer>,
): DeviceCertificateView | undefined {
  try {
    const cert = expectTlv(der, 0, TAG.SEQUENCE);
    if (cert.end !== der.length) return undefined;
    const tbs = expectTlv(der, cert.body, TAG.SEQUENCE, cert.end);
    const version = expectTlv(der, tbs.body, 0xa0, tbs.end);
    const serial = expectTlv(der, version.end, TAG.INTEGER, tbs.end);
    let at = serial.end;
    // Hint: the signature algorithm, issuer, validity and subject come before the key.
    for (let i = 0; i < 4; i++) at = expectTlv(der, at, TAG.SEQUENCE, tbs.end).end;
    const spki = expectTlv(der, at, TAG.SEQUENCE, tbs.end);
    const extensions = expectTlv(der, spki.end, 0xa3, tbs.end);
    if (extensions.end !== tbs.end) return undefined;
    const list = expectTlv(der, extensions.body, TAG.SEQUENCE, extensions.end);
    let uri: string | undefined;
    let altNames = false;
    for (let e = list.body; e < list.end; ) {
      const extension = expectTlv(der, e, TAG.SEQUENCE, list.end);
      const oid = expectTlv(der, extension.body, TAG.OID, extension.end);
      let next = readTlv(der, oid.end, extension.end);
      if (next.tag === TAG.BOOLEAN) next = readTlv(der, next.end, extension.end);
      if (next.tag !== TAG.OCTET_STRING || next.end !== extension.end) return undefined;
      // Hint: the first subjectAltName extension counts, as @peculiar/x509's getExtension finds it.
      if (!altNames && contentsEqual(der, oid, OID_SUBJECT_ALT_NAME)) {
        altNames = true;
        uri = firstUri(der, next);
      }
      e = extension.end;
    }
    return {
      serial: Buffer.from(
        der.buffer,
        der.byteOffset + serial.body,
        serial.end - serial.body,
      ).toString("hex"),
      spki: der.slice(spki.start, spki.end),
      uri,
    };
  } catch {
    return undefined;
  }
}
