/**
 * Devices as a real iota-server process sees them: each provisions and renews over HTTP(S) with its own
 * WebCrypto key, and keeps the certificate it was answered, so a test can hold the service to every answer.
 */

import { createCsrPem, generateDeviceKey } from "../../src/core/csr.ts";
import { signRenewProof } from "../../src/core/renew-proof.ts";
import { signRecoveryProof } from "../../src/core/recovery-proof.ts";
import { deviceToken } from "../../src/core/token.ts";
import { x509 } from "../../src/core/x509.ts";
import type { ServerProcess } from "./server-process.ts";

/** A device's current key and the certificate the service answered for it. */
export interface HeldIdentity {
  device: string;
  keys: CryptoKeyPair;
  certificate: string;
}

/** One answer: its status, its content type and its parsed body. */
export interface Answer {
  status: number;
  type: string;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

async function post(server: ServerProcess, path: string, body: unknown): Promise<Answer> {
  const res = await server.fetch(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: Record<string, unknown> = {};
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    parsed = { text };
  }
  return {
    status: res.status,
    type: res.headers.get("content-type") ?? "",
    retryAfter: res.headers.get("retry-after"),
    body: parsed,
  };
}

/**
 * Provisions `device` with a new key, proving `previous` (the key it held before a reset) when given, as iotad
 * does; the identity when the service answered 201.
 */
export async function provisionOver(
  server: ServerProcess,
  group: string,
  device: string,
  secret: string,
  previous?: CryptoKey,
): Promise<{ answer: Answer; held?: HeldIdentity }> {
  const pair = await generateDeviceKey();
  const csr = await createCsrPem(pair, device);
  const proof = previous
    ? await signRecoveryProof(previous, group, device, csr, new Date())
    : undefined;
  const answer = await post(server, "/v1/provision", { group, device, csr, secret, proof });
  if (answer.status !== 201) return { answer };
  return { answer, held: { device, keys: pair, certificate: String(answer.body.certificate) } };
}

/** Provisions `device` with a new key and its device token, as iotad does; fails unless the service answered 201. */
export async function provisionWithToken(
  server: ServerProcess,
  group: string,
  device: string,
  secret: string,
): Promise<HeldIdentity> {
  const keys = await generateDeviceKey();
  const csr = await createCsrPem(keys, device);
  const answer = await post(server, "/v1/provision", {
    group,
    device,
    csr,
    token: deviceToken(secret, group, device),
  });
  if (answer.status !== 201)
    throw new Error(
      `provisioning ${group}/${device}: ${answer.status} ${JSON.stringify(answer.body)}`,
    );
  return { device, keys, certificate: String(answer.body.certificate) };
}

/** Renews `held` to a new key, proving the current one; the new identity when the service answered 201. */
export async function renewOver(
  server: ServerProcess,
  held: HeldIdentity,
): Promise<{ answer: Answer; held?: HeldIdentity }> {
  const serial = new x509.X509Certificate(held.certificate).serialNumber;
  const keys = await generateDeviceKey();
  const csr = await createCsrPem(keys, held.device);
  const proof = await signRenewProof(held.keys.privateKey, serial, csr, new Date());
  const answer = await post(server, "/v1/renew", { certificate: held.certificate, ...proof });
  if (answer.status !== 201) return { answer };
  return {
    answer,
    held: { device: held.device, keys, certificate: String(answer.body.certificate) },
  };
}

/** Runs `work` on every item, `width` at a time. */
export async function inParallel<T>(
  items: T[],
  width: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}
