/**
 * Provisioning credentials are bound to one device and one group; renewal proofs to one certificate, once;
 * revocation holds; a key is known by itself, not by its encoding.
 */

import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCsrPem, exportPrivateKeyPem, generateDeviceKey } from "../../src/core/csr.ts";
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

describe("key identity: a key re-encoded is the same key", () => {
  const tmp = mkdtempSync(join(tmpdir(), "iota-key-identity-"));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));
  let files = 0;

  function openssl(args: string[]): Buffer {
    const run = spawnSync("openssl", args, { cwd: tmp });
    if (run.error)
      throw new Error(`openssl is required (apt-get install openssl): ${run.error.message}`);
    if (run.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${run.stderr}`);
    return run.stdout;
  }

  /** `keys`' private key re-encoded by `openssl ec ARGS` (e.g. `-conv_form compressed`), in a file. */
  async function reencodedKey(keys: CryptoKeyPair, ecArgs: string[]): Promise<string> {
    const n = files++;
    writeFileSync(join(tmp, `${n}.pem`), await exportPrivateKeyPem(keys.privateKey));
    openssl(["ec", "-in", `${n}.pem`, ...ecArgs, "-out", `${n}-re.pem`]);
    return `${n}-re.pem`;
  }

  /** A CSR by OpenSSL for `device` with `keys`' key re-encoded by `openssl ec ARGS`. */
  async function reencodedCsr(keys: CryptoKeyPair, device: string, ecArgs: string[]) {
    const key = await reencodedKey(keys, ecArgs);
    return openssl(["req", "-new", "-key", key, "-subj", `/CN=${device}`]).toString("utf8");
  }

  const COMPRESSED = ["-conv_form", "compressed"];
  const EXPLICIT = ["-param_enc", "explicit"];

  async function currentSerial(svc: TestService, device: string): Promise<string> {
    const res = await svc.call("GET", `/v1/groups/g/devices/${device}`);
    return ((await res.json()) as { serial: string }).serial;
  }

  test("a renewal whose CSR carries the current key compressed, or with explicit curve parameters, is a 400 naming csr", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "g");
    await createDevices(svc, "g", ["a"]);
    const a = await provisionDevice(svc, "g", "a", secret);
    for (const [form, message] of [
      [COMPRESSED, "carries its public key as a compressed point"],
      [EXPLICIT, "has an EC key with explicit curve parameters"],
    ] as const) {
      const csr = await reencodedCsr(a.keys, "a", [...form]);
      const res = await postJson(
        svc,
        "/v1/renew",
        await renewBody(a.keys.privateKey, a.issued.certificate, csr, svc.clock.now),
      );
      expect(res.status).toBe(400);
      expect((await readProblem(res)).errors).toEqual([
        { field: "csr", message: expect.stringContaining(message) },
      ]);
    }
    expect(await currentSerial(svc, "a")).toBe(a.issued.serial);
    // A new key renews: the refusals above are about the key, not the request.
    const next = (await deviceCsr("a")).csr;
    const res = await postJson(
      svc,
      "/v1/renew",
      await renewBody(a.keys.privateKey, a.issued.certificate, next, svc.clock.now),
    );
    expect(res.status).toBe(201);
  });

  test("provisioning with the key compressed is a 400 naming csr, first or as a retry; the same encoding retried gets its certificate", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "g");
    await createDevices(svc, "g", ["a"]);
    const keys = await generateDeviceKey();
    const compressed = await reencodedCsr(keys, "a", COMPRESSED);
    const provision = (csr: string) =>
      postJson(svc, "/v1/provision", { group: "g", device: "a", csr, secret });
    const first = await provision(compressed);
    expect(first.status).toBe(400);
    expect((await readProblem(first)).errors?.[0]?.field).toBe("csr");
    expect(await state(svc, "g", "a")).toBe("created");

    const plain = await createCsrPem(keys, "a");
    const issued = await provision(plain);
    expect(issued.status).toBe(201);
    const serial = ((await issued.json()) as { serial: string }).serial;
    const retry = await provision(compressed);
    expect(retry.status).toBe(400);
    expect((await readProblem(retry)).errors).toEqual([
      { field: "csr", message: expect.stringContaining("as a compressed point") },
    ]);
    const again = await provision(plain);
    expect(again.status).toBe(200);
    expect(((await again.json()) as { serial: string }).serial).toBe(serial);
    expect(await currentSerial(svc, "a")).toBe(serial);
  });

  test("a device whose certificate holds its key compressed (issued before such keys were refused) cannot renew to the same key uncompressed", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    await createDevices(svc, "g", ["a"]);
    const keys = await generateDeviceKey();
    const spki = new Uint8Array(
      openssl([
        "ec",
        "-in",
        await reencodedKey(keys, []),
        "-pubout",
        ...COMPRESSED,
        "-outform",
        "DER",
      ]),
    );
    expect(spki.length).toBe(59);
    // Hint: what provisioning recorded when a compressed CSR was still accepted: that SPKI, certified and hashed as sent.
    const ca = await svc.ctx.tenants.ca("default");
    const now = svc.clock.now;
    const cert = await ca.issue({ tenant: "default", group: "g", device: "a" }, spki, 86_400, now);
    const recorded = await svc.store.recordProvisioned(
      { tenantId: "default", group: "g", name: "a" },
      {
        serial: cert.serial,
        keyHash: createHash("sha256").update(spki).digest("hex"),
        certificate: cert.pem,
        notBefore: cert.notBefore,
        notAfter: cert.notAfter,
        issuedAt: now,
      },
    );
    expect(recorded).toBe(true);
    const same = await createCsrPem(keys, "a");
    const res = await postJson(
      svc,
      "/v1/renew",
      await renewBody(keys.privateKey, cert.pem, same, svc.clock.now),
    );
    expect(res.status).toBe(400);
    expect((await readProblem(res)).errors).toEqual([
      { field: "csr", message: "must be for a new key; renewal re-keys the device" },
    ]);
    const next = (await deviceCsr("a")).csr;
    const renewed = await postJson(
      svc,
      "/v1/renew",
      await renewBody(keys.privateKey, cert.pem, next, svc.clock.now),
    );
    expect(renewed.status).toBe(201);
  });
});
