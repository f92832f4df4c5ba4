/** GET /v1/ca and GET /v1/crl: the trust anchor, and revocations of revoke, reset and delete on the CRL. */

import { describe, expect, test } from "bun:test";
import {
  createDevices,
  createGroup,
  createTestService,
  provisionDevice,
  readProblem,
  type TestService,
} from "../helpers/test-service.ts";
import { x509 } from "../../src/core/x509.ts";

/** The current CRL, checked for its PEM header and signature, with its number and serials. */
async function crl(svc: TestService): Promise<{ number: number; serials: string[]; pem: string }> {
  const res = await svc.app.request("/v1/crl");
  expect(res.status).toBe(200);
  const pem = await res.text();
  expect(pem).toStartWith("-----BEGIN X509 CRL-----\n");
  expect(pem.trimEnd()).toEndWith("-----END X509 CRL-----");
  const parsed = new x509.X509Crl(pem.replaceAll("X509 CRL", "CRL"));
  const ca = new x509.X509Certificate(await (await svc.app.request("/v1/ca")).text());
  expect(parsed.issuer).toBe(ca.subject);
  expect(await parsed.verify({ publicKey: ca.publicKey })).toBe(true);
  const ext = parsed.extensions.find((e) => e.type === "2.5.29.20");
  expect(ext).toBeDefined();
  // CRLNumber is a DER INTEGER: 02 len bytes.
  const value = new Uint8Array(ext?.value ?? new ArrayBuffer(0));
  expect(value[0]).toBe(0x02);
  const number = Number.parseInt(Buffer.from(value.slice(2)).toString("hex"), 16);
  return { number, serials: parsed.entries.map((e) => e.serialNumber.toLowerCase()), pem };
}

/** A group `g` with provisioned devices `a`, `b`, `c`, `d` and their serials. */
async function setup(): Promise<{ svc: TestService; serials: Record<string, string> }> {
  const svc = await createTestService();
  const secret = await createGroup(svc, "g");
  const names = ["a", "b", "c", "d"];
  await createDevices(svc, "g", names);
  const serials: Record<string, string> = {};
  for (const name of names)
    serials[name] = (await provisionDevice(svc, "g", name, secret)).issued.serial;
  return { svc, serials };
}

describe("GET /v1/ca", () => {
  test("serves the tenant root as PEM without a token; an unknown tenant is 404, a bad one 400", async () => {
    const svc = await createTestService();
    const res = await svc.app.request("/v1/ca");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/x-pem-file");
    const ca = new x509.X509Certificate(await res.text());
    expect(ca.subject).toContain("IoTA default Root CA");
    expect(await ca.isSelfSigned()).toBe(true);
    expect((await svc.app.request("/v1/ca?tenant=default")).status).toBe(200);
    expect((await svc.app.request("/v1/ca?tenant=nobody")).status).toBe(404);
    const bad = await svc.app.request("/v1/ca?tenant=No_Body");
    expect(bad.status).toBe(400);
    expect((await readProblem(bad)).errors?.[0]?.field).toBe("tenant");
  });
});

describe("GET /v1/crl", () => {
  test("starts empty, signed by the CA, with the X509 CRL header", async () => {
    const svc = await createTestService();
    const first = await crl(svc);
    expect(first.serials).toEqual([]);
    expect((await svc.app.request("/v1/crl?tenant=nobody")).status).toBe(404);
  });

  test("revoke lists the device's serial and the CRL number grows", async () => {
    const { svc, serials } = await setup();
    const before = await crl(svc);
    await svc.call("POST", "/v1/groups/g/devices/a/revoke");
    const after = await crl(svc);
    expect(after.serials).toEqual([serials.a ?? "?"]);
    expect(after.number).toBeGreaterThan(before.number);
    // Revoking again changes nothing.
    await svc.call("POST", "/v1/groups/g/devices/a/revoke");
    expect((await crl(svc)).number).toBe(after.number);
  });

  test("reset and delete also put the serials on the CRL, each time with a higher number", async () => {
    const { svc, serials } = await setup();
    const start = (await crl(svc)).number;
    expect((await svc.call("POST", "/v1/groups/g/devices/b/reset")).status).toBe(200);
    const afterReset = await crl(svc);
    expect(afterReset.serials).toEqual([serials.b ?? "?"]);
    expect(afterReset.number).toBeGreaterThan(start);
    expect((await svc.call("DELETE", "/v1/groups/g/devices/c")).status).toBe(204);
    const afterDelete = await crl(svc);
    expect(afterDelete.serials.sort()).toEqual([serials.b ?? "?", serials.c ?? "?"].sort());
    expect(afterDelete.number).toBeGreaterThan(afterReset.number);
    expect(afterDelete.serials).not.toContain(serials.d);
  });

  test("force-deleting a group revokes all its certificates", async () => {
    const { svc, serials } = await setup();
    expect((await svc.call("DELETE", "/v1/groups/g?force=true")).status).toBe(204);
    expect((await crl(svc)).serials.sort()).toEqual(Object.values(serials).sort());
  });

  test("a revoked certificate leaves the CRL once it expired and the CRL is re-signed (within half a day)", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "g", { validity: "1h" });
    await createDevices(svc, "g", ["a"]);
    const { issued } = await provisionDevice(svc, "g", "a", secret);
    await svc.call("POST", "/v1/groups/g/devices/a/revoke");
    expect((await crl(svc)).serials).toEqual([issued.serial]);
    svc.clock.advance(13 * 3600_000);
    const later = await crl(svc);
    expect(later.serials).toEqual([]);
    // The re-signed CRL is current at the new time.
    const parsed = new x509.X509Crl(later.pem.replaceAll("X509 CRL", "CRL"));
    expect(parsed.thisUpdate.getTime()).toBeLessThanOrEqual(svc.clock.now);
    expect(parsed.nextUpdate?.getTime() ?? 0).toBeGreaterThan(svc.clock.now);
  });
});
