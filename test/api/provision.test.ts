/** POST /v1/provision: credentials, CSR checks, idempotency, the certificate profile, and rate limits. */

import { describe, expect, test } from "bun:test";
import {
  createDevices,
  createGroup,
  createTestService,
  deviceCsr,
  postJson,
  provisionDevice,
  readProblem,
  type IssuedAnswer,
  type TestService,
} from "../helpers/test-service.ts";
import { crypto, x509 } from "../../src/core/x509.ts";
import { deviceToken } from "../../src/core/token.ts";
import { signRecoveryProof } from "../../src/core/recovery-proof.ts";
import { ECDSA_SHA256, generateDeviceKey } from "../../src/core/csr.ts";
import { decodePem, encodePem } from "../../src/core/pem.ts";

/** A group `g` with devices `d` and `e`, and its secret. */
async function setup(
  options: Parameters<typeof createTestService>[0] = {},
): Promise<{ svc: TestService; secret: string }> {
  const svc = await createTestService(options);
  const secret = await createGroup(svc, "g", { validity: "1d" });
  await createDevices(svc, "g", ["d", "e"]);
  return { svc, secret };
}

/** A CSR signed with `keys` and `signingAlgorithm`, with optional extensions. */
async function csrWith(
  keys: CryptoKeyPair,
  cn: string,
  signingAlgorithm: Algorithm | EcdsaParams,
  extensions: x509.Extension[] = [],
): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${cn}`,
    keys,
    signingAlgorithm,
    extensions,
  });
  return csr.toString("pem");
}

/** The 400 answer's field error, which must name `csr`. */
async function csrError(res: Response): Promise<string> {
  expect(res.status).toBe(400);
  const problem = await readProblem(res);
  const error = problem.errors?.find((e) => e.field === "csr");
  expect(error).toBeDefined();
  return error?.message ?? "";
}

describe("credentials", () => {
  test("the device token provisions (201)", async () => {
    const { svc, secret } = await setup();
    const { csr } = await deviceCsr("d");
    const res = await postJson(svc, "/v1/provision", {
      group: "g",
      device: "d",
      csr,
      token: deviceToken(secret, "g", "d"),
    });
    expect(res.status).toBe(201);
    const issued = (await res.json()) as IssuedAnswer;
    expect(issued.certificate).toContain("-----BEGIN CERTIFICATE-----");
  });

  test("the group secret provisions (201), as in the mass-provisioning guide's flow", async () => {
    const { svc, secret } = await setup();
    const { csr } = await deviceCsr("d");
    expect(
      (await postJson(svc, "/v1/provision", { group: "g", device: "d", csr, secret })).status,
    ).toBe(201);
  });

  test("a wrong token, another device's token, or another group's secret is 401, and the device stays created", async () => {
    const { svc, secret } = await setup();
    const other = await createGroup(svc, "other");
    await createDevices(svc, "other", ["d"]);
    const { csr } = await deviceCsr("d");
    const attempts = [
      { token: "KFyRFYOfNkEYgOdfHhKYTM7QtyBBB7I2DEMsmecRxdE" },
      { token: deviceToken(secret, "g", "e") },
      { token: deviceToken(other, "other", "d") },
      { secret: other },
      { secret: secret.toUpperCase() },
    ];
    for (const credential of attempts) {
      const res = await postJson(svc, "/v1/provision", {
        group: "g",
        device: "d",
        csr,
        ...credential,
      });
      expect(res.status).toBe(401);
      const problem = await readProblem(res);
      expect(problem.detail).not.toContain(secret);
      expect(problem.detail).not.toContain(Object.values(credential)[0]);
    }
    expect(
      ((await (await svc.call("GET", "/v1/groups/g/devices/d")).json()) as { state: string }).state,
    ).toBe("created");
  });

  test.each([
    [{ token: "t", secret: "s" }, "exactly one of token and secret"],
    [{}, "exactly one of token and secret"],
    [{ token: 5 }, "must be a string"],
  ])("credential fields %p are a 400", async (credential, message) => {
    const { svc } = await setup();
    const { csr } = await deviceCsr("d");
    const res = await postJson(svc, "/v1/provision", {
      group: "g",
      device: "d",
      csr,
      ...credential,
    });
    expect(res.status).toBe(400);
    expect((await readProblem(res)).detail).toContain(message);
  });

  test("an unknown group or tenant answers exactly like a wrong credential; an unknown device, once authenticated, is 404", async () => {
    const { svc, secret } = await setup();
    const { csr } = await deviceCsr("x");
    const wrong = await postJson(svc, "/v1/provision", {
      group: "g",
      device: "x",
      csr,
      secret: "guess",
    });
    const noGroup = await postJson(svc, "/v1/provision", {
      group: "nope",
      device: "x",
      csr,
      secret,
    });
    const noTenant = await postJson(svc, "/v1/provision", {
      tenant: "nope",
      group: "g",
      device: "x",
      csr,
      secret,
    });
    const detail = (await readProblem(wrong)).detail;
    expect(wrong.status).toBe(401);
    for (const res of [noGroup, noTenant]) {
      expect(res.status).toBe(401);
      // Hint: the same words as a wrong secret for that name, so a caller without a credential learns no names.
      expect((await readProblem(res)).detail).toBe(
        detail.replace('"g"', `"${res === noGroup ? "nope" : "g"}"`),
      );
    }
    expect(
      (await postJson(svc, "/v1/provision", { group: "g", device: "x", csr, secret })).status,
    ).toBe(404);
    // Without a valid credential, an unknown device looks like any other: 401, so names cannot be probed.
    expect(
      (await postJson(svc, "/v1/provision", { group: "g", device: "x", csr, secret: "guess" }))
        .status,
    ).toBe(401);
    const bad = await postJson(svc, "/v1/provision", { group: "g", device: "X_1", csr, secret });
    expect(bad.status).toBe(400);
    expect((await readProblem(bad)).errors?.[0]?.field).toBe("device");
  });
});

describe("CSR checks (400 naming csr)", () => {
  test("a CSR with a broken signature", async () => {
    const { svc, secret } = await setup();
    const { csr } = await deviceCsr("d");
    const der = decodePem(csr)[0]?.der ?? new Uint8Array();
    const tampered = new Uint8Array(der);
    tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 0x01;
    const message = await csrError(
      await postJson(svc, "/v1/provision", {
        group: "g",
        device: "d",
        csr: encodePem(tampered, "CERTIFICATE REQUEST"),
        secret,
      }),
    );
    expect(message).toContain("signature");
  });

  test("a CSR for another CN", async () => {
    const { svc, secret } = await setup();
    const { csr } = await deviceCsr("e");
    expect(
      await csrError(
        await postJson(svc, "/v1/provision", { group: "g", device: "d", csr, secret }),
      ),
    ).toContain('CN must be the device name "d"');
  });

  test("a P-384 key", async () => {
    const { svc, secret } = await setup();
    const keys = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const csr = await csrWith(keys, "d", { name: "ECDSA", hash: "SHA-384" } as EcdsaParams);
    expect(
      await csrError(
        await postJson(svc, "/v1/provision", { group: "g", device: "d", csr, secret }),
      ),
    ).toContain("P-384");
  });

  test("an RSA key", async () => {
    const { svc, secret } = await setup();
    const algorithm = {
      name: "RSASSA-PKCS1-v1_5",
      hash: "SHA-256",
      publicExponent: new Uint8Array([1, 0, 1]),
      modulusLength: 2048,
    };
    const keys = (await crypto.subtle.generateKey(algorithm, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const csr = await csrWith(keys, "d", algorithm);
    const message = await csrError(
      await postJson(svc, "/v1/provision", { group: "g", device: "d", csr, secret }),
    );
    expect(message).toContain("RSA");
    expect(message).toContain("P-256");
  });

  test("a CSR asking for CA rights (basicConstraints CA:TRUE)", async () => {
    const { svc, secret } = await setup();
    const csr = await csrWith(await generateDeviceKey(), "d", ECDSA_SHA256, [
      new x509.BasicConstraintsExtension(true, undefined, true),
    ]);
    expect(
      await csrError(
        await postJson(svc, "/v1/provision", { group: "g", device: "d", csr, secret }),
      ),
    ).toContain("CA");
  });

  test.each([
    [
      "-----BEGIN CERTIFICATE REQUEST-----\nbm90IGEgY3Ny\n-----END CERTIFICATE REQUEST-----\n",
      "does not parse",
    ],
    [
      "-----BEGIN CERTIFICATE-----\nbm90IGEgY3Ny\n-----END CERTIFICATE-----\n",
      "CERTIFICATE REQUEST",
    ],
    ["-----BEGIN garbage", "CERTIFICATE REQUEST"],
    ["hello", "not PEM"],
    [42, "must be a PEM string"],
  ])("garbage %p", async (csr, reason) => {
    const { svc, secret } = await setup();
    expect(
      await csrError(
        await postJson(svc, "/v1/provision", { group: "g", device: "d", csr, secret }),
      ),
    ).toContain(reason);
  });

  test("two CSRs in one field", async () => {
    const { svc, secret } = await setup();
    const csr = (await deviceCsr("d")).csr + (await deviceCsr("d")).csr;
    expect(
      await csrError(
        await postJson(svc, "/v1/provision", { group: "g", device: "d", csr, secret }),
      ),
    ).toContain("exactly one");
  });
});

describe("idempotency and lifecycle", () => {
  test("a retry with the same key gets the same certificate (200); another key is 409", async () => {
    const { svc, secret } = await setup();
    const { csr, issued } = await provisionDevice(svc, "g", "d", secret);
    const retry = await postJson(svc, "/v1/provision", {
      group: "g",
      device: "d",
      csr,
      token: deviceToken(secret, "g", "d"),
    });
    expect(retry.status).toBe(200);
    const again = (await retry.json()) as IssuedAnswer;
    expect(again.certificate).toBe(issued.certificate);
    expect(again.serial).toBe(issued.serial);
    expect(again.renewAt).toBe(issued.renewAt);
    const other = await postJson(svc, "/v1/provision", {
      group: "g",
      device: "d",
      csr: (await deviceCsr("d")).csr,
      secret,
    });
    expect(other.status).toBe(409);
    expect((await readProblem(other)).detail).toContain("reset");
  });

  test("revoked is 403; after a reset the device provisions a new key by proving its previous one", async () => {
    const { svc, secret } = await setup();
    const first = await provisionDevice(svc, "g", "d", secret);
    await svc.call("POST", "/v1/groups/g/devices/d/revoke");
    expect(
      (await postJson(svc, "/v1/provision", { group: "g", device: "d", csr: first.csr, secret }))
        .status,
    ).toBe(403);
    await svc.call("POST", "/v1/groups/g/devices/d/reset");
    const next = await deviceCsr("d");
    // A credential alone (a stolen token) no longer wins the device back...
    const stolen = await postJson(svc, "/v1/provision", {
      group: "g",
      device: "d",
      csr: next.csr,
      secret,
    });
    expect(stolen.status).toBe(401);
    expect((await readProblem(stolen)).errors?.[0]?.field).toBe("proof");
    // ...nor does a proof signed by any other key...
    const other = await deviceCsr("d");
    const forged = await signRecoveryProof(
      other.keys.privateKey,
      "g",
      "d",
      next.csr,
      new Date(svc.clock.now),
    );
    expect(
      (
        await postJson(svc, "/v1/provision", {
          group: "g",
          device: "d",
          csr: next.csr,
          secret,
          proof: forged,
        })
      ).status,
    ).toBe(401);
    // ...but the device, which still holds the key it had, comes back by itself.
    const proof = await signRecoveryProof(
      first.keys.privateKey,
      "g",
      "d",
      next.csr,
      new Date(svc.clock.now),
    );
    const back = await postJson(svc, "/v1/provision", {
      group: "g",
      device: "d",
      csr: next.csr,
      secret,
      proof,
    });
    expect(back.status).toBe(201);
    expect(((await back.json()) as IssuedAnswer).serial).not.toBe(first.issued.serial);
  });

  test("a proof binds the new CSR and the time: replayed for another key or out of its window, it fails", async () => {
    const { svc, secret } = await setup();
    const first = await provisionDevice(svc, "g", "d", secret);
    await svc.call("POST", "/v1/groups/g/devices/d/reset");
    const next = await deviceCsr("d");
    const other = await deviceCsr("d");
    const proof = await signRecoveryProof(
      first.keys.privateKey,
      "g",
      "d",
      next.csr,
      new Date(svc.clock.now),
    );
    const replayed = { group: "g", device: "d", csr: other.csr, secret, proof };
    expect((await postJson(svc, "/v1/provision", replayed)).status).toBe(401);
    const old = await signRecoveryProof(
      first.keys.privateKey,
      "g",
      "d",
      next.csr,
      new Date(svc.clock.now - 301_000),
    );
    const late = await postJson(svc, "/v1/provision", {
      group: "g",
      device: "d",
      csr: next.csr,
      secret,
      proof: old,
    });
    expect(late.status).toBe(401);
    expect((await readProblem(late)).detail).toContain("5 minutes");
  });

  test("a name deleted and created again still needs the proof: its old token alone does not provision it", async () => {
    const { svc, secret } = await setup();
    const first = await provisionDevice(svc, "g", "d", secret);
    expect((await svc.call("DELETE", "/v1/groups/g/devices/d")).status).toBe(204);
    await createDevices(svc, "g", ["d", "f"]);
    const next = await deviceCsr("d");
    const token = deviceToken(secret, "g", "d");
    const stolen = await postJson(svc, "/v1/provision", {
      group: "g",
      device: "d",
      csr: next.csr,
      token,
    });
    expect(stolen.status).toBe(401);
    expect((await readProblem(stolen)).errors?.[0]?.field).toBe("proof");
    // A name that never held a key provisions with its token alone, created in the same call.
    expect((await provisionDevice(svc, "g", "f", secret)).issued.certificate).toContain("BEGIN");
    const proof = await signRecoveryProof(
      first.keys.privateKey,
      "g",
      "d",
      next.csr,
      new Date(svc.clock.now),
    );
    const back = await postJson(svc, "/v1/provision", {
      group: "g",
      device: "d",
      csr: next.csr,
      token,
      proof,
    });
    expect(back.status).toBe(201);
  });

  test("a deleted name's key goes with its group: a group created again starts without it", async () => {
    const { svc, secret } = await setup();
    await provisionDevice(svc, "g", "d", secret);
    expect((await svc.call("DELETE", "/v1/groups/g/devices/d")).status).toBe(204);
    expect((await svc.call("DELETE", "/v1/groups/g?force=true")).status).toBe(204);
    const again = await createGroup(svc, "g", { validity: "1d" });
    await createDevices(svc, "g", ["d"]);
    expect((await provisionDevice(svc, "g", "d", again)).issued.certificate).toContain("BEGIN");
  });

  test("reset with forgetKey lets the token alone provision a device that lost its key", async () => {
    const { svc, secret } = await setup();
    await provisionDevice(svc, "g", "d", secret);
    const reset = await svc.call("POST", "/v1/groups/g/devices/d/reset", { forgetKey: true });
    expect(reset.status).toBe(200);
    await provisionDevice(svc, "g", "d", secret);
    const bad = await svc.call("POST", "/v1/groups/g/devices/d/reset", { forgetKey: "yes" });
    expect(bad.status).toBe(400);
    expect((await readProblem(bad)).errors?.[0]?.field).toBe("forgetKey");
  });
});

describe("the issued certificate", () => {
  test("follows the IoTA device profile and is signed by GET /v1/ca", async () => {
    const { svc, secret } = await setup();
    const before = svc.clock.now;
    const { csr, issued } = await provisionDevice(svc, "g", "d", secret);
    const cert = new x509.X509Certificate(issued.certificate);
    const request = new x509.Pkcs10CertificateRequest(csr);

    expect(cert.subjectName.getField("CN")).toEqual(["d"]);
    const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
    expect(san?.names.items.map((n) => [n.type, n.value])).toEqual([["url", "iota://default/g/d"]]);
    const eku = cert.getExtension(x509.ExtendedKeyUsageExtension);
    expect(eku?.usages).toEqual([x509.ExtendedKeyUsage.clientAuth]);
    const basic = cert.getExtension(x509.BasicConstraintsExtension);
    expect(basic?.ca).toBe(false);
    expect(cert.serialNumber).toMatch(/^[0-9a-f]{32}$/);
    expect(Number.parseInt(cert.serialNumber.slice(0, 2), 16)).toBeLessThan(0x80);
    expect(issued.serial).toBe(cert.serialNumber);
    expect(Buffer.from(cert.publicKey.rawData).equals(Buffer.from(request.publicKey.rawData))).toBe(
      true,
    );
    expect((cert.publicKey.algorithm as EcKeyAlgorithm).namedCurve).toBe("P-256");

    // Validity: the group's 1 day from the moment of issue, notBefore backdated one minute.
    const issuedAt = Math.floor(before / 1000) * 1000;
    expect(cert.notAfter.getTime()).toBe(issuedAt + 86400_000);
    expect(cert.notBefore.getTime()).toBe(issuedAt - 60_000);
    expect(issued.notAfter).toBe(cert.notAfter.toISOString());
    expect(issued.notBefore).toBe(cert.notBefore.toISOString());
    const renewAt = Date.parse(issued.renewAt);
    expect(renewAt).toBeGreaterThan(cert.notBefore.getTime());
    expect(renewAt).toBeLessThan(cert.notAfter.getTime());

    const caRes = await svc.app.request("/v1/ca");
    expect(caRes.status).toBe(200);
    expect(caRes.headers.get("content-type")).toContain("pem");
    const caPem = await caRes.text();
    const ca = new x509.X509Certificate(caPem);
    expect(issued.ca).toBe(caPem);
    expect(issued.chain).toBe(issued.certificate + caPem);
    expect(cert.issuer).toBe(ca.subject);
    expect(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true })).toBe(true);
    expect(await ca.isSelfSigned()).toBe(true);
    expect(ca.getExtension(x509.BasicConstraintsExtension)?.ca).toBe(true);
  });

  test("a one-minute group gets a one-minute certificate backdated a tenth of it", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "short", { validity: 60 });
    await createDevices(svc, "short", ["d"]);
    const { issued } = await provisionDevice(svc, "short", "d", secret);
    const cert = new x509.X509Certificate(issued.certificate);
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(66_000);
  });
});

describe("rate limits", () => {
  test("the 4th provision from one address within the burst gets 429 with Retry-After", async () => {
    const svc = await createTestService({ issueRate: { rate: 1, burst: 3 } });
    const secret = await createGroup(svc, "g");
    const names = ["a", "b", "c", "d"];
    await createDevices(svc, "g", names);
    for (const name of names.slice(0, 3)) await provisionDevice(svc, "g", name, secret);
    const res = await postJson(svc, "/v1/provision", {
      group: "g",
      device: "d",
      csr: (await deviceCsr("d")).csr,
      secret,
    });
    expect(res.status).toBe(429);
    expect(Number(res.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect((await readProblem(res)).status).toBe(429);
    svc.clock.advance(1000);
    await provisionDevice(svc, "g", "d", secret);
  });

  test("repeated wrong secrets get 429, but the correct one is never throttled", async () => {
    const { svc, secret } = await setup();
    const { csr } = await deviceCsr("d");
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push(
        (
          await postJson(svc, "/v1/provision", {
            group: "g",
            device: "d",
            csr,
            secret: `wrong-${i}`,
          })
        ).status,
      );
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual([429, 429]);
    const wrong = await postJson(svc, "/v1/provision", {
      group: "g",
      device: "d",
      csr,
      secret: "x",
    });
    expect(Number(wrong.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(
      ((await (await svc.call("GET", "/v1/groups/g/devices/d")).json()) as { state: string }).state,
    ).toBe("created");
    const right = await postJson(svc, "/v1/provision", { group: "g", device: "d", csr, secret });
    expect(right.status).toBe(201);
  });
});
