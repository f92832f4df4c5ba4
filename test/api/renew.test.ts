/** POST /v1/renew: re-keying with a proof of possession, replay and retry rules, expiry grace, revocation. */

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
import { x509 } from "../../src/core/x509.ts";
import { signRenewProof } from "../../src/core/renew-proof.ts";
import { decodePem, encodePem } from "../../src/core/pem.ts";
import { expectTlv, TAG } from "../../src/core/der.ts";

/** One DER TLV (short or one-byte long form lengths, as these small values need). */
function tlv(tag: number, body: number[]): number[] {
  const length =
    body.length < 0x80
      ? [body.length]
      : body.length < 0x100
        ? [0x81, body.length]
        : [0x82, body.length >> 8, body.length & 0xff];
  return [tag, ...length, ...body];
}

/** A device `d` (and `e`) provisioned in group `g` with a 1-hour validity and 1-hour renew grace. */
async function setup(): Promise<{
  svc: TestService;
  secret: string;
  d: Awaited<ReturnType<typeof provisionDevice>>;
}> {
  const svc = await createTestService();
  const secret = await createGroup(svc, "g", { validity: "1h", renewGrace: "1h" });
  await createDevices(svc, "g", ["d", "e"]);
  return { svc, secret, d: await provisionDevice(svc, "g", "d", secret) };
}

/** The body of a renewal of `certificate` (held with `privateKey`) to the key of `csr`, signed at `at`. */
async function renewBody(
  privateKey: CryptoKey,
  certificate: string,
  csr: string,
  at: number,
): Promise<Record<string, string>> {
  const serial = new x509.X509Certificate(certificate).serialNumber;
  return { certificate, ...(await signRenewProof(privateKey, serial, csr, new Date(at))) };
}

describe("successful renewal", () => {
  test("re-keys: a new serial for the new key; the device shows it and its lastRenewal", async () => {
    const { svc, d } = await setup();
    svc.clock.advance(40 * 60_000);
    const next = await deviceCsr("d");
    const res = await postJson(
      svc,
      "/v1/renew",
      await renewBody(d.keys.privateKey, d.issued.certificate, next.csr, svc.clock.now),
    );
    expect(res.status).toBe(201);
    const renewed = (await res.json()) as IssuedAnswer;
    expect(renewed.serial).not.toBe(d.issued.serial);
    const cert = new x509.X509Certificate(renewed.certificate);
    expect(
      Buffer.from(cert.publicKey.rawData).equals(
        Buffer.from(new x509.Pkcs10CertificateRequest(next.csr).publicKey.rawData),
      ),
    ).toBe(true);
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items[0]?.value).toBe(
      "iota://default/g/d",
    );
    expect(cert.notAfter.getTime() - cert.notBefore.getTime()).toBe(3600_000 + 60_000);
    const renewAt = Date.parse(renewed.renewAt);
    expect(renewAt).toBeGreaterThan(cert.notBefore.getTime());
    expect(renewAt).toBeLessThan(cert.notAfter.getTime());
    // After the first renewal, the window is step-ca's: 2/3 of the lifetime minus at most 1/20.
    const lifetime = cert.notAfter.getTime() - cert.notBefore.getTime();
    expect(renewAt - cert.notBefore.getTime()).toBeGreaterThanOrEqual(
      Math.floor(lifetime * (2 / 3 - 1 / 20)) - 1,
    );
    expect(renewAt - cert.notBefore.getTime()).toBeLessThanOrEqual(
      Math.ceil(lifetime * (2 / 3)) + 1,
    );
    const device = (await (await svc.call("GET", "/v1/groups/g/devices/d")).json()) as {
      serial: string;
      lastRenewal: string;
      state: string;
    };
    expect(device).toMatchObject({
      serial: renewed.serial,
      state: "provisioned",
      lastRenewal: new Date(svc.clock.now).toISOString(),
    });
  });

  test("a retry with the same new CSR after success returns the same certificate (200)", async () => {
    const { svc, d } = await setup();
    const next = await deviceCsr("d");
    const first = (await (
      await postJson(
        svc,
        "/v1/renew",
        await renewBody(d.keys.privateKey, d.issued.certificate, next.csr, svc.clock.now),
      )
    ).json()) as IssuedAnswer;
    svc.clock.advance(30_000);
    const retry = await postJson(
      svc,
      "/v1/renew",
      await renewBody(d.keys.privateKey, d.issued.certificate, next.csr, svc.clock.now),
    );
    expect(retry.status).toBe(200);
    const again = (await retry.json()) as IssuedAnswer;
    expect(again.certificate).toBe(first.certificate);
    expect(again.serial).toBe(first.serial);
  });

  test("the new certificate renews in turn", async () => {
    const { svc, d } = await setup();
    const second = await deviceCsr("d");
    const renewed = (await (
      await postJson(
        svc,
        "/v1/renew",
        await renewBody(d.keys.privateKey, d.issued.certificate, second.csr, svc.clock.now),
      )
    ).json()) as IssuedAnswer;
    const third = await deviceCsr("d");
    const res = await postJson(
      svc,
      "/v1/renew",
      await renewBody(second.keys.privateKey, renewed.certificate, third.csr, svc.clock.now),
    );
    expect(res.status).toBe(201);
  });

  test("an expired certificate within the group's grace still renews", async () => {
    const { svc, d } = await setup();
    svc.clock.advance(3600_000 + 30 * 60_000);
    const next = await deviceCsr("d");
    expect(
      (
        await postJson(
          svc,
          "/v1/renew",
          await renewBody(d.keys.privateKey, d.issued.certificate, next.csr, svc.clock.now),
        )
      ).status,
    ).toBe(201);
  });
});

describe("refused renewals", () => {
  test("the superseded certificate cannot renew again (409)", async () => {
    const { svc, d } = await setup();
    await postJson(
      svc,
      "/v1/renew",
      await renewBody(
        d.keys.privateKey,
        d.issued.certificate,
        (await deviceCsr("d")).csr,
        svc.clock.now,
      ),
    );
    const replay = await postJson(
      svc,
      "/v1/renew",
      await renewBody(
        d.keys.privateKey,
        d.issued.certificate,
        (await deviceCsr("d")).csr,
        svc.clock.now,
      ),
    );
    expect(replay.status).toBe(409);
    expect((await readProblem(replay)).detail).toContain("no longer");
  });

  test.each([6, -6])(
    "a proof timestamp %p minutes off the service's clock is 401",
    async (minutes) => {
      const { svc, d } = await setup();
      const body = await renewBody(
        d.keys.privateKey,
        d.issued.certificate,
        (await deviceCsr("d")).csr,
        svc.clock.now + minutes * 60_000,
      );
      const res = await postJson(svc, "/v1/renew", body);
      expect(res.status).toBe(401);
      expect((await readProblem(res)).detail).toContain("5 minutes");
    },
  );

  test("a proof 4 minutes off is accepted", async () => {
    const { svc, d } = await setup();
    const body = await renewBody(
      d.keys.privateKey,
      d.issued.certificate,
      (await deviceCsr("d")).csr,
      svc.clock.now - 4 * 60_000,
    );
    expect((await postJson(svc, "/v1/renew", body)).status).toBe(201);
  });

  test("a proof signed by another key is 401", async () => {
    const { svc, d } = await setup();
    const intruder = await deviceCsr("d");
    const res = await postJson(
      svc,
      "/v1/renew",
      await renewBody(intruder.keys.privateKey, d.issued.certificate, intruder.csr, svc.clock.now),
    );
    expect(res.status).toBe(401);
    expect((await readProblem(res)).detail).toContain("signature");
  });

  test("a proof that does not cover the CSR sent is 401", async () => {
    const { svc, d } = await setup();
    const body = await renewBody(
      d.keys.privateKey,
      d.issued.certificate,
      (await deviceCsr("d")).csr,
      svc.clock.now,
    );
    body.csr = (await deviceCsr("d")).csr;
    expect((await postJson(svc, "/v1/renew", body)).status).toBe(401);
  });

  test("another device's certificate with this device's proof is 401", async () => {
    const { svc, secret, d } = await setup();
    const e = await provisionDevice(svc, "g", "e", secret);
    const next = await deviceCsr("e");
    const serialOfE = new x509.X509Certificate(e.issued.certificate).serialNumber;
    const proof = await signRenewProof(
      d.keys.privateKey,
      serialOfE,
      next.csr,
      new Date(svc.clock.now),
    );
    const res = await postJson(svc, "/v1/renew", { certificate: e.issued.certificate, ...proof });
    expect(res.status).toBe(401);
    // And a proof naming e's serial cannot be used with d's certificate either.
    const res2 = await postJson(svc, "/v1/renew", { certificate: d.issued.certificate, ...proof });
    expect(res2.status).toBe(401);
  });

  test("a CSR for the current key is a 400 naming csr", async () => {
    const { svc, d } = await setup();
    const res = await postJson(
      svc,
      "/v1/renew",
      await renewBody(d.keys.privateKey, d.issued.certificate, d.csr, svc.clock.now),
    );
    expect(res.status).toBe(400);
    expect((await readProblem(res)).errors?.[0]).toMatchObject({
      field: "csr",
      message: expect.stringContaining("new key"),
    });
  });

  test("a CSR for another CN is a 400 naming csr", async () => {
    const { svc, d } = await setup();
    const res = await postJson(
      svc,
      "/v1/renew",
      await renewBody(
        d.keys.privateKey,
        d.issued.certificate,
        (await deviceCsr("e")).csr,
        svc.clock.now,
      ),
    );
    expect(res.status).toBe(400);
    expect((await readProblem(res)).errors?.[0]?.field).toBe("csr");
  });

  test.each(["revoke", "reset"])(
    "after %s the device's certificate cannot renew (403)",
    async (action) => {
      const { svc, d } = await setup();
      await svc.call("POST", `/v1/groups/g/devices/d/${action}`);
      const res = await postJson(
        svc,
        "/v1/renew",
        await renewBody(
          d.keys.privateKey,
          d.issued.certificate,
          (await deviceCsr("d")).csr,
          svc.clock.now,
        ),
      );
      expect(res.status).toBe(403);
      expect((await readProblem(res)).detail).toContain("revoked");
    },
  );

  test("expired past the group's grace is 403", async () => {
    const { svc, d } = await setup();
    svc.clock.advance(2 * 3600_000 + 60_000);
    const res = await postJson(
      svc,
      "/v1/renew",
      await renewBody(
        d.keys.privateKey,
        d.issued.certificate,
        (await deviceCsr("d")).csr,
        svc.clock.now,
      ),
    );
    expect(res.status).toBe(403);
    expect((await readProblem(res)).detail).toContain("grace");
  });

  test("a certificate this service never issued (another CA's) is a 400 naming certificate", async () => {
    const { svc } = await setup();
    const foreign = await setup();
    const next = await deviceCsr("d");
    const res = await postJson(
      svc,
      "/v1/renew",
      await renewBody(
        foreign.d.keys.privateKey,
        foreign.d.issued.certificate,
        next.csr,
        svc.clock.now,
      ),
    );
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    expect(problem.errors?.[0]?.field).toBe("certificate");
    expect(problem.detail).toContain("not issued by this service");
  });

  test.each([
    ["certificate", "not PEM"],
    ["signature", "must be a base64url string"],
    ["timestamp", "must be an ISO 8601 time"],
  ])("a missing or malformed %s is a 400 naming it", async (field, message) => {
    const { svc, d } = await setup();
    const body: Record<string, unknown> = await renewBody(
      d.keys.privateKey,
      d.issued.certificate,
      (await deviceCsr("d")).csr,
      svc.clock.now,
    );
    body[field] = field === "certificate" ? "garbage" : 12;
    const res = await postJson(svc, "/v1/renew", body);
    expect(res.status).toBe(400);
    expect((await readProblem(res)).errors).toContainEqual({
      field,
      message: expect.stringContaining(message),
    });
  });

  test("a certificate whose signature value cannot be a P-256 signature is a 400 naming certificate, not a 500", async () => {
    const { svc, d } = await setup();
    const der = new Uint8Array(decodePem(d.issued.certificate)[0]?.der ?? []);
    const outer = expectTlv(der, 0, TAG.SEQUENCE);
    const tbs = expectTlv(der, outer.body, TAG.SEQUENCE, outer.end);
    const algorithm = expectTlv(der, tbs.end, TAG.SEQUENCE, outer.end);
    // Hint: r is an INTEGER of 34 bytes, more than a P-256 signature can hold; the DER itself is well formed.
    const tooBig = tlv(0x02, [0x01, ...new Array(33).fill(0x11)]);
    const signature = tlv(0x03, [
      0x00,
      ...tlv(0x30, [...tooBig, ...tlv(0x02, new Array(32).fill(0x22))]),
    ]);
    const forged = tlv(0x30, [...der.subarray(tbs.start, algorithm.end), ...signature]);
    const body = await renewBody(
      d.keys.privateKey,
      d.issued.certificate,
      (await deviceCsr("d")).csr,
      svc.clock.now,
    );
    body.certificate = encodePem(new Uint8Array(forged), "CERTIFICATE");
    const res = await postJson(svc, "/v1/renew", body);
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    expect(problem.errors?.[0]?.field).toBe("certificate");
    expect(problem.detail).toContain("not issued by this service");
  });

  test("a certificate PEM that does not parse is a 400 naming certificate", async () => {
    const { svc, d } = await setup();
    const body = await renewBody(
      d.keys.privateKey,
      d.issued.certificate,
      (await deviceCsr("d")).csr,
      svc.clock.now,
    );
    body.certificate = "-----BEGIN CERTIFICATE-----\nbm9wZQ==\n-----END CERTIFICATE-----\n";
    const res = await postJson(svc, "/v1/renew", body);
    expect(res.status).toBe(400);
    expect((await readProblem(res)).errors?.[0]?.field).toBe("certificate");
  });
});
