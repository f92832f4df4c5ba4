/**
 * The renewal proof: the device signs, with the key of its current certificate, a statement binding
 * that certificate's serial, the time, and the new CSR. The service accepts it for a few minutes only.
 */

import { createHash } from "node:crypto";
import { crypto, type x509 } from "./x509.ts";
import { EC_P256, ECDSA_SHA256 } from "./csr.ts";
import { toBase64Url, fromBase64Url, utf8 } from "./encoding.ts";
import { toArrayBuffer } from "./pem.ts";

/** How far a proof's timestamp may be from the service's clock: 5 minutes either way. */
export const PROOF_WINDOW_MS = 5 * 60_000;

/** The fields a renewal request carries besides the certificate. */
export interface RenewProof {
  /** The new CSR, PEM. */
  csr: string;
  /** ISO 8601 time of signing, by the device's view of the service's clock. */
  timestamp: string;
  /** base64url ECDSA P-256 SHA-256 signature (IEEE P1363 r||s) over {@link proofMessage}. */
  signature: string;
}

/**
 * The signed statement: `iota-renew-v1`, the current serial (hex), the timestamp, and the
 * base64url SHA-256 of the new CSR's PEM text, one per line.
 */
export function proofMessage(
  serialHex: string,
  timestamp: string,
  csrPem: string,
): Uint8Array<ArrayBuffer> {
  const csrHash = createHash("sha256").update(csrPem.trim(), "utf8").digest("base64url");
  return utf8(`iota-renew-v1\n${serialHex.toLowerCase()}\n${timestamp}\n${csrHash}`);
}

/** Signs a renewal of the certificate with serial `serialHex` to the key of `csrPem`. */
export async function signRenewProof(
  privateKey: CryptoKey,
  serialHex: string,
  csrPem: string,
  now: Date,
): Promise<RenewProof> {
  const timestamp = now.toISOString();
  const message = proofMessage(serialHex, timestamp, csrPem);
  const signature = await crypto.subtle.sign(ECDSA_SHA256, privateKey, toArrayBuffer(message));
  return { csr: csrPem, timestamp, signature: toBase64Url(signature) };
}

/** Checks an ECDSA P-256 SHA-256 signature (IEEE P1363 r||s) over a message with the current certificate's key. */
export type ProofVerifier = (
  signature: Uint8Array<ArrayBuffer>,
  message: Uint8Array<ArrayBuffer>,
) => Promise<boolean> | boolean;

/** Why a proof is not acceptable for `cert` at `now`, or `undefined` when it is. */
export async function checkRenewProof(
  cert: x509.X509Certificate,
  proof: RenewProof,
  now: number,
): Promise<string | undefined> {
  return await checkRenewProofWith(
    cert.serialNumber,
    async (signature, message) => {
      // Hint: importing an EC key needs its curve; the hash belongs to the signature, not the key.
      const publicKey = await cert.publicKey.export(EC_P256, ["verify"], crypto);
      return await crypto.subtle.verify(
        ECDSA_SHA256,
        publicKey,
        toArrayBuffer(signature),
        toArrayBuffer(message),
      );
    },
    proof,
    now,
  );
}

/**
 * {@link checkRenewProof} for the certificate with serial `serialHex`, its key's signature check given as
 * `verify` (a service that holds the key in another form verifies with it directly).
 */
export async function checkRenewProofWith(
  serialHex: string,
  verify: ProofVerifier,
  proof: RenewProof,
  now: number,
): Promise<string | undefined> {
  const signature = timelySignature(proof, now);
  if (typeof signature === "string") return signature;
  const ok = await verify(signature, proofMessage(serialHex, proof.timestamp, proof.csr));
  return ok ? undefined : "signature does not verify with the current certificate's key";
}

/**
 * The raw P-256 signature (r||s) of a signed proof whose timestamp is within {@link PROOF_WINDOW_MS} of `now`,
 * or why it is not one. The shape checks every proof (renewal, recovery) runs before verifying its signature.
 */
export function timelySignature(
  proof: { timestamp: string; signature: string },
  now: number,
): Uint8Array<ArrayBuffer> | string {
  const at = Date.parse(proof.timestamp);
  if (Number.isNaN(at)) return "timestamp is not an ISO 8601 time";
  if (Math.abs(at - now) > PROOF_WINDOW_MS)
    return "timestamp is more than 5 minutes from the service's clock";
  const signature = fromBase64Url(proof.signature);
  if (signature?.length !== 64)
    return "signature is not a base64url P-256 signature (64 bytes r||s)";
  return signature;
}
