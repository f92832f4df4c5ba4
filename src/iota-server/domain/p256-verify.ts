/**
 * ECDSA P-256 signature checks of the issuing paths (a CSR's proof of possession, a renewal proof), run on
 * WebCrypto's thread pool so the JavaScript thread only hands them over.
 */

import { EC_P256 } from "../../core/csr.ts";
import { crypto } from "../../core/x509.ts";

const ECDSA_SHA256: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };

/** A P-256 public key ready to verify with, or undefined when its SubjectPublicKeyInfo does not import. */
export async function importP256(spki: Uint8Array<ArrayBuffer>): Promise<CryptoKey | undefined> {
  try {
    return await crypto.subtle.importKey("spki", spki, EC_P256, false, ["verify"]);
  } catch {
    return undefined;
  }
}

/**
 * Whether `signature` (r || s, 64 bytes, as WebCrypto and IEEE P1363 write it) signs `message` with SHA-256
 * under `key`. False, never an exception, for a signature of any other shape. Hint: the verify (~35 us of CPU)
 * runs on the thread pool; node:crypto's synchronous verify costs ~8 us less CPU in all but holds the
 * JavaScript thread for all of it, and that thread is what bounds the issuing rate (BENCHMARKS.md).
 */
export async function verifyP256(
  key: CryptoKey,
  signature: Uint8Array<ArrayBuffer>,
  message: Uint8Array<ArrayBuffer>,
): Promise<boolean> {
  try {
    return await crypto.subtle.verify(ECDSA_SHA256, key, signature, message);
  } catch {
    return false;
  }
}
