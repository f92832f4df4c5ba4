/** Provisioning credentials are bound to one device and one group; renewal proofs to one certificate, once; revocation holds. */

import { describe, expect, test } from "bun:test";
import { deviceToken } from "../../src/core/token.ts";
import { signRenewProof } from "../../src/core/renew-proof.ts";
import { x509 } from "../../src/core/x509.ts";
import {
  createDevices,
  createGroup,
  createTestService,
  deviceCsr,
  postJson,
  provisionDevice,
  readProblem,
  type TestService,
} from "../helpers/test-service.ts";

async function state(svc: TestService, group: string, device: string): Promise<string> {
  return (
    (await (await svc.call("GET", `/v1/groups/${group}/devices/${device}`)).json()) as {
      state: string;
    }
  ).state;
}

async function renewBody(privateKey: CryptoKey, certificate: string, csr: string, at: number) {
  const serial = new x509.X509Certificate(certificate).serialNumber;
  return { certificate, ...(await signRenewProof(privateKey, serial, csr, new Date(at))) };
}

describe("provisioning credentials", () => {
  test("the device token of device A cannot provision device B (nor A's CSR under B's name)", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "g");
    await createDevices(svc, "g", ["a", "b"]);
    const tokenA = deviceToken(secret, "g", "a");
    const res = await postJson(svc, "/v1/provision", {
      group: "g",
      device: "b",
      csr: (await deviceCsr("b")).csr,
      token: tokenA,
    });
    expect(res.status).toBe(401);
    expect((await readProblem(res)).detail).not.toContain(tokenA);
    expect(await state(svc, "g", "b")).toBe("created");
    // The same token does provision A: the refusal above is about the binding, not a broken token.
    expect(
      (
        await postJson(svc, "/v1/provision", {
          group: "g",
          device: "a",
          csr: (await deviceCsr("a")).csr,
          token: tokenA,
        })
      ).status,
    ).toBe(201);
  });

  test("a group's secret, or a token derived from it, cannot provision into another group", async () => {
    const svc = await createTestService();
    const secret1 = await createGroup(svc, "g1");
    await createGroup(svc, "g2");
    await createDevices(svc, "g1", ["d"]);
    await createDevices(svc, "g2", ["d"]);
    const csr = (await deviceCsr("d")).csr;
    for (const credential of [
      { secret: secret1 },
      { token: deviceToken(secret1, "g1", "d") },
      { token: deviceToken(secret1, "g2", "d") },
    ]) {
      const res = await postJson(svc, "/v1/provision", {
        group: "g2",
        device: "d",
        csr,
        ...credential,
      });
      expect(res.status).toBe(401);
      expect((await readProblem(res)).detail).not.toContain(secret1);
    }
    expect(await state(svc, "g2", "d")).toBe("created");
    expect(
      (await postJson(svc, "/v1/provision", { group: "g1", device: "d", csr, secret: secret1 }))
        .status,
    ).toBe(201);
  });
});

describe("renewal proofs", () => {
  async function provisioned() {
    const svc = await createTestService();
    const secret = await createGroup(svc, "g", { validity: "1h" });
    await createDevices(svc, "g", ["a", "b"]);
    return {
      svc,
      a: await provisionDevice(svc, "g", "a", secret),
      b: await provisionDevice(svc, "g", "b", secret),
    };
  }

  test("a used renewal cannot be replayed: the old certificate and key cannot renew to another key, nor after the window", async () => {
    const { svc, a } = await provisioned();
    const next = await deviceCsr("a");
    const body = await renewBody(a.keys.privateKey, a.issued.certificate, next.csr, svc.clock.now);
    expect((await postJson(svc, "/v1/renew", body)).status).toBe(201);
    // A thief holding the old key signs a fresh proof for a key of its own: refused.
    const thief = await deviceCsr("a");
    const stolen = await postJson(
      svc,
      "/v1/renew",
      await renewBody(a.keys.privateKey, a.issued.certificate, thief.csr, svc.clock.now),
    );
    expect(stolen.status).toBe(409);
    // The captured request itself, replayed after the 5-minute window: refused.
    svc.clock.advance(5 * 60_000 + 1000);
    expect((await postJson(svc, "/v1/renew", body)).status).toBe(401);
  });

  test("a proof made by device A cannot renew device B, and A's certificate cannot carry a CSR for B", async () => {
    const { svc, a, b } = await provisioned();
    const nextB = await deviceCsr("b");
    const proofA = await renewBody(
      a.keys.privateKey,
      a.issued.certificate,
      nextB.csr,
      svc.clock.now,
    );
    // A's signature presented with B's certificate.
    const res = await postJson(svc, "/v1/renew", { ...proofA, certificate: b.issued.certificate });
    expect(res.status).toBe(401);
    // A's own certificate and proof, asking for a certificate named B.
    expect((await postJson(svc, "/v1/renew", proofA)).status).toBe(400);
    const devices = (await (await svc.call("GET", "/v1/groups/g/devices")).json()) as {
      items: { serial: string }[];
    };
    expect(devices.items.map((d) => d.serial)).toEqual([a.issued.serial, b.issued.serial]);
  });

  test("a revoked device cannot renew, with its own valid proof", async () => {
    const { svc, a } = await provisioned();
    expect((await svc.call("POST", "/v1/groups/g/devices/a/revoke")).status).toBe(200);
    const res = await postJson(
      svc,
      "/v1/renew",
      await renewBody(
        a.keys.privateKey,
        a.issued.certificate,
        (await deviceCsr("a")).csr,
        svc.clock.now,
      ),
    );
    expect(res.status).toBe(403);
    await readProblem(res);
    expect(await state(svc, "g", "a")).toBe("revoked");
  });

  test("only the exact certificate issued renews: not a re-encoded variant that still verifies, nor one with a PEM block appended", async () => {
    const { svc, a } = await provisioned();
    const ca = await svc.ctx.tenants.ca("default");
    const der = Buffer.from(
      a.issued.certificate.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""),
      "base64",
    );
    // Hint: the DER parser tolerates some changed bits outside the signed part; find one such variant of this certificate.
    let variant: string | undefined;
    for (let i = der.length - 1; i >= 0 && variant === undefined; i--) {
      for (let bit = 0; bit < 8 && variant === undefined; bit++) {
        const changed = Buffer.from(der);
        changed[i] = (changed[i] ?? 0) ^ (1 << bit);
        try {
          const cert = new x509.X509Certificate(changed);
          if (
            cert.serialNumber === a.issued.serial &&
            (await cert.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }))
          )
            variant = cert.toString("pem");
        } catch {
          // not parseable: try the next bit
        }
      }
    }
    expect(variant).toBeDefined();
    const next = (await deviceCsr("a")).csr;
    for (const certificate of [variant ?? "", `${a.issued.certificate}\n${a.issued.ca}`]) {
      const res = await postJson(
        svc,
        "/v1/renew",
        await renewBody(a.keys.privateKey, certificate, next, svc.clock.now),
      );
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect(
      (
        await postJson(
          svc,
          "/v1/renew",
          await renewBody(a.keys.privateKey, a.issued.certificate, next, svc.clock.now),
        )
      ).status,
    ).toBe(201);
  });
});
