/**
 * Renewal's two paths: the device's current certificate (checked against the stored copy) and any certificate
 * (parsed in full, its CA signature checked) give the same answer and count the same failures.
 */

import { describe, expect, test } from "bun:test";
import {
  createDevices,
  createGroup,
  createTestService,
  deviceCsr,
  provisionDevice,
  type TestService,
} from "../helpers/test-service.ts";
import { decodePem } from "../../src/core/pem.ts";
import { signRenewProof } from "../../src/core/renew-proof.ts";
import { isIotaError } from "../../src/core/errors.ts";
import type { RenewBody } from "../../src/core/wire.ts";
import { renewAny, renewCurrent } from "../../src/iota-server/domain/renew.ts";

/** A service with device `d` provisioned in group `g` (1-hour validity and grace). */
async function setup() {
  const svc = await createTestService();
  const secret = await createGroup(svc, "g", { validity: "1h", renewGrace: "1h" });
  await createDevices(svc, "g", ["d"]);
  const d = await provisionDevice(svc, "g", "d", secret);
  return { svc, d };
}

/** What one path answered for `body`, and how many failures it counted. */
async function answer(
  svc: TestService,
  body: RenewBody,
  path: "current" | "any",
): Promise<{ answer: string; failures: number }> {
  let failures = 0;
  const onFailure = () => {
    failures++;
  };
  try {
    const outcome =
      path === "current"
        ? await renewCurrent(svc.ctx, body, onFailure, decodeDer(body.certificate))
        : await renewAny(svc.ctx, body, onFailure);
    if (outcome === undefined) return { answer: "left to the general path", failures };
    return { answer: `created ${outcome.created}`, failures };
  } catch (error) {
    if (!isIotaError(error)) throw error;
    return {
      answer: `${error.kind} ${error.message} ${JSON.stringify(error.errors ?? [])}`,
      failures,
    };
  }
}

function decodeDer(pem: string): Uint8Array<ArrayBuffer> {
  return new Uint8Array(decodePem(pem)[0]?.der ?? []);
}

/** Both paths on the same state; the current-certificate path must not step aside. */
async function expectSame(svc: TestService, body: RenewBody): Promise<string> {
  const current = await answer(svc, body, "current");
  expect(current.answer).not.toBe("left to the general path");
  expect(await answer(svc, body, "any")).toEqual(current);
  return current.answer;
}

describe("renewal of the current certificate answers as the general path", () => {
  test("refusals: proof time, proof key, CSR key and CN, revoked, past the grace", async () => {
    const { svc, d } = await setup();
    const at = (ms: number) => new Date(svc.clock.now + ms);
    const body = async (
      key: CryptoKey,
      csr: string,
      when = at(0),
      serial = d.issued.serial,
    ): Promise<RenewBody> => ({
      certificate: d.issued.certificate,
      ...(await signRenewProof(key, serial, csr, when)),
    });
    const fresh = await deviceCsr("d");
    const other = await deviceCsr("d");
    const answers = [
      await expectSame(svc, await body(d.keys.privateKey, fresh.csr, at(10 * 60_000))),
      await expectSame(svc, await body(other.keys.privateKey, fresh.csr)),
      await expectSame(svc, await body(d.keys.privateKey, fresh.csr, at(0), "0badc0de")),
      await expectSame(svc, await body(d.keys.privateKey, d.csr)),
      await expectSame(svc, await body(d.keys.privateKey, (await deviceCsr("e")).csr)),
    ];
    expect(answers.map((a) => a.split(" ")[0])).toEqual([
      "unauthorized",
      "unauthorized",
      "unauthorized",
      "invalid",
      "invalid",
    ]);
    svc.clock.advance(2 * 3600_000 + 60_000);
    const late = await body(d.keys.privateKey, fresh.csr);
    expect(await expectSame(svc, late)).toContain("grace");
    svc.clock.advance(-(2 * 3600_000 + 60_000));
    expect((await svc.call("POST", "/v1/groups/g/devices/d/revoke")).status).toBeLessThan(300);
    expect(await expectSame(svc, await body(d.keys.privateKey, fresh.csr))).toContain("revoked");
  });

  test("a valid renewal succeeds on either path", async () => {
    for (const path of ["current", "any"] as const) {
      const { svc, d } = await setup();
      const next = await deviceCsr("d");
      const body = {
        certificate: d.issued.certificate,
        ...(await signRenewProof(
          d.keys.privateKey,
          d.issued.serial,
          next.csr,
          new Date(svc.clock.now),
        )),
      };
      expect(await answer(svc, body, path)).toEqual({ answer: "created true", failures: 0 });
    }
  });

  test("a certificate that is not the stored one is left to the general path", async () => {
    const { svc, d } = await setup();
    const next = await deviceCsr("d");
    const body = {
      certificate: d.issued.certificate,
      ...(await signRenewProof(
        d.keys.privateKey,
        d.issued.serial,
        next.csr,
        new Date(svc.clock.now),
      )),
    };
    expect((await answer(svc, body, "current")).answer).toBe("created true");
    // Hint: now superseded: the stored certificate is the new one, so the old one takes the general path.
    expect((await answer(svc, body, "current")).answer).toBe("left to the general path");
    expect((await answer(svc, body, "any")).answer).toBe("created false");
  });
});
