import { beforeAll, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { checkRenewProof, proofMessage, signRenewProof, PROOF_WINDOW_MS } from "./renew-proof.ts";
import { createCsrPem, EC_P256, ECDSA_SHA256, generateDeviceKey } from "./csr.ts";
import { crypto, x509 } from "./x509.ts";

let keys: CryptoKeyPair;
let cert: x509.X509Certificate;
let csr: string;
const NOW = Date.parse("2030-01-01T00:00:00Z");

beforeAll(async () => {
  keys = await generateDeviceKey();
  cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: "4a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d",
    name: "CN=d",
    notBefore: new Date(NOW - 3600_000),
    notAfter: new Date(NOW + 3600_000),
    signingAlgorithm: ECDSA_SHA256,
    keys,
  });
  csr = await createCsrPem(await generateDeviceKey(), "d");
});

test("the signed message binds version, lowercase serial, timestamp and the CSR hash", () => {
  const text = new TextDecoder().decode(
    proofMessage("4A0B", "2030-01-01T00:00:00.000Z", `${csr}\n\n`),
  );
  const hash = createHash("sha256").update(csr.trim()).digest("base64url");
  expect(text).toBe(`iota-renew-v1\n4a0b\n2030-01-01T00:00:00.000Z\n${hash}`);
});

test("a proof signed by the certificate's key at the service's time is accepted", async () => {
  const proof = await signRenewProof(keys.privateKey, cert.serialNumber, csr, new Date(NOW));
  expect(proof.csr).toBe(csr);
  expect(proof.timestamp).toBe("2030-01-01T00:00:00.000Z");
  expect(proof.signature).toMatch(/^[A-Za-z0-9_-]{86}$/);
  expect(await checkRenewProof(cert, proof, NOW)).toBeUndefined();
  expect(await checkRenewProof(cert, proof, NOW + PROOF_WINDOW_MS)).toBeUndefined();
  expect(await checkRenewProof(cert, proof, NOW - PROOF_WINDOW_MS)).toBeUndefined();
});

test("a timestamp more than 5 minutes away is refused", async () => {
  const proof = await signRenewProof(keys.privateKey, cert.serialNumber, csr, new Date(NOW));
  expect(await checkRenewProof(cert, proof, NOW + PROOF_WINDOW_MS + 1)).toContain("5 minutes");
  expect(await checkRenewProof(cert, proof, NOW - PROOF_WINDOW_MS - 1)).toContain("5 minutes");
  expect(await checkRenewProof(cert, { ...proof, timestamp: "yesterday" }, NOW)).toContain(
    "ISO 8601",
  );
});

test("another key, another CSR, another serial, or a changed timestamp does not verify", async () => {
  const other = await generateDeviceKey();
  const byOther = await signRenewProof(other.privateKey, cert.serialNumber, csr, new Date(NOW));
  expect(await checkRenewProof(cert, byOther, NOW)).toContain("does not verify");
  const proof = await signRenewProof(keys.privateKey, cert.serialNumber, csr, new Date(NOW));
  const otherCsr = await createCsrPem(other, "d");
  expect(await checkRenewProof(cert, { ...proof, csr: otherCsr }, NOW)).toContain(
    "does not verify",
  );
  const forOtherSerial = await signRenewProof(
    keys.privateKey,
    "4a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4e",
    csr,
    new Date(NOW),
  );
  expect(await checkRenewProof(cert, forOtherSerial, NOW)).toContain("does not verify");
  expect(
    await checkRenewProof(cert, { ...proof, timestamp: new Date(NOW + 1000).toISOString() }, NOW),
  ).toContain("does not verify");
});

test("a signature that is not 64 bytes of base64url is refused before verifying", async () => {
  const proof = await signRenewProof(keys.privateKey, cert.serialNumber, csr, new Date(NOW));
  expect(await checkRenewProof(cert, { ...proof, signature: "not base64!" }, NOW)).toContain(
    "64 bytes",
  );
  expect(
    await checkRenewProof(cert, { ...proof, signature: proof.signature.slice(0, 40) }, NOW),
  ).toContain("64 bytes");
});

test("the signature is plain WebCrypto ECDSA P-256 SHA-256 (r||s), so any device can make it", async () => {
  const proof = await signRenewProof(keys.privateKey, cert.serialNumber, csr, new Date(NOW));
  const publicKey = await crypto.subtle.importKey("spki", cert.publicKey.rawData, EC_P256, false, [
    "verify",
  ]);
  const message = proofMessage(cert.serialNumber, proof.timestamp, csr);
  const ok = await crypto.subtle.verify(
    ECDSA_SHA256,
    publicKey,
    Buffer.from(proof.signature, "base64url"),
    message.slice().buffer,
  );
  expect(ok).toBe(true);
});
