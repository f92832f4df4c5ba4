/**
 * The recovery proof: a device that an operator reset proves, to provision again, that it holds the key it
 * had before the reset. It signs a statement binding its name, the time and the new CSR, so a stolen device
 * token alone cannot win the device back.
 */

import { createHash } from "node:crypto";
import { crypto } from "./x509.ts";
import { EC_P256, ECDSA_SHA256 } from "./csr.ts";
import { toBase64Url, utf8 } from "./encoding.ts";
import { toArrayBuffer } from "./pem.ts";
import { timelySignature } from "./renew-proof.ts";

/** What a provisioning request carries to prove possession of the previous key. */
export interface RecoveryProof {
  /** ISO 8601 time of signing, by the device's view of the service's clock. */
  timestamp: string;
  /** base64url ECDSA P-256 SHA-256 signature (IEEE P1363 r||s) over {@link recoveryMessage}. */
  signature: string;
}

/**
 * The signed statement: `iota-recover-v1`, `<group>/<device>`, the timestamp, and the base64url SHA-256 of
 * the new CSR's PEM text, one per line.
 */
export function recoveryMessage(
  group: string,
  device: string,
  timestamp: string,
  csrPem: string,
): Uint8Array {
  const csrHash = createHash("sha256").update(csrPem.trim(), "utf8").digest("base64url");
  return utf8(`iota-recover-v1\n${group}/${device}\n${timestamp}\n${csrHash}`);
}

/** Signs, with the device's previous key, a request to provision `group/device` with `csrPem`. */
export async function signRecoveryProof(
  privateKey: CryptoKey,
  group: string,
  device: string,
  csrPem: string,
  now: Date,
): Promise<RecoveryProof> {
  const timestamp = now.toISOString();
  const message = recoveryMessage(group, device, timestamp, csrPem);
  const signature = await crypto.subtle.sign(ECDSA_SHA256, privateKey, toArrayBuffer(message));
  return { timestamp, signature: toBase64Url(signature) };
}

/** Why `proof` does not show possession of the key `spki` (DER) at `now`, or `undefined` when it does. */
export async function checkRecoveryProof(
  spki: Uint8Array,
  request: { group: string; device: string; csr: string },
  proof: RecoveryProof,
  now: number,
): Promise<string | undefined> {
  const signature = timelySignature(proof, now);
  if (typeof signature === "string") return signature;
  const key = await crypto.subtle.importKey("spki", toArrayBuffer(spki), EC_P256, false, [
    "verify",
  ]);
  const message = recoveryMessage(request.group, request.device, proof.timestamp, request.csr);
  const ok = await crypto.subtle.verify(
    ECDSA_SHA256,
    key,
    toArrayBuffer(signature),
    toArrayBuffer(message),
  );
  return ok ? undefined : "signature does not verify with the key the device held before its reset";
}
