/** SHA-256 fingerprints of certificates, written and read the way `openssl x509 -noout -fingerprint -sha256` prints them. */

import { createHash } from "node:crypto";
import { decodePem } from "./pem.ts";

/** `AB:CD:...:EF`: the SHA-256 of `der`, upper-case hex bytes joined by colons. */
export function fingerprintOfDer(der: Uint8Array): string {
  const hex = createHash("sha256").update(der).digest("hex").toUpperCase();
  return hex.replace(/(..)(?!$)/g, "$1:");
}

/** The fingerprint of every certificate in a PEM text, in order. */
export function certificateFingerprints(pem: string): string[] {
  return decodePem(pem)
    .filter((block) => block.label === "CERTIFICATE")
    .map((block) => fingerprintOfDer(block.der));
}

/**
 * A fingerprint a person pasted, in the canonical `AB:CD:...` form, or `undefined` when it is not 32
 * bytes of hex. Accepts what openssl prints (`sha256 Fingerprint=AB:CD:...`, `SHA256 Fingerprint=...`),
 * or just the hex, with or without colons, in either case.
 */
export function parseFingerprint(text: string): string | undefined {
  const hex = text
    .trim()
    .replace(/^sha-?256\s+fingerprint\s*=\s*/i, "")
    .replace(/:/g, "");
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return undefined;
  return hex.toUpperCase().replace(/(..)(?!$)/g, "$1:");
}
