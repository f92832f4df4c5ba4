/**
 * Failed attempts are throttled (429 with Retry-After) per source, and per group for provisioning; a request
 * whose credential or proof verifies is never throttled, so a client without a credential behind the same
 * address (a NAT, a load balancer) cannot starve the real devices.
 */

import { expect, test } from "bun:test";
import { deviceToken } from "../../src/core/token.ts";
import { signRenewProof } from "../../src/core/renew-proof.ts";
import {
  createDevices,
  createGroup,
  createTestService,
  deviceCsr,
  postJson,
  provisionDevice,
  readProblem,
} from "../helpers/test-service.ts";

test("after 10 wrong secrets or tokens a group's failures get 429 with Retry-After; the right secret still provisions at once", async () => {
  const svc = await createTestService();
  const secret = await createGroup(svc, "g");
  await createGroup(svc, "h");
  await createDevices(svc, "g", ["d", "e"]);
  await createDevices(svc, "h", ["d"]);
  const csr = (await deviceCsr("d")).csr;
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) {
    const credential =
      i % 2 === 0
        ? { secret: `${secret}-wrong-${i}` }
        : { token: deviceToken(`guess-${i}`, "g", "d") };
    statuses.push(
      (await postJson(svc, "/v1/provision", { group: "g", device: "d", csr, ...credential }))
        .status,
    );
  }
  expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
  expect(statuses.slice(10)).toEqual([429, 429]);
  const blocked = await postJson(svc, "/v1/provision", {
    group: "g",
    device: "d",
    csr,
    secret: "x",
  });
  expect(blocked.status).toBe(429);
  expect(Number(blocked.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
  expect((await readProblem(blocked)).status).toBe(429);
  // Another group is not affected by this group's throttle.
  expect(
    (await postJson(svc, "/v1/provision", { group: "h", device: "d", csr, secret: "wrong" }))
      .status,
  ).toBe(401);
  // The real credentials, from the same address, are never throttled.
  expect(
    (await postJson(svc, "/v1/provision", { group: "g", device: "d", csr, secret })).status,
  ).toBe(201);
  const token = deviceToken(secret, "g", "e");
  const e = (await deviceCsr("e")).csr;
  expect(
    (await postJson(svc, "/v1/provision", { group: "g", device: "e", csr: e, token })).status,
  ).toBe(201);
});

test("forged renewal proofs are throttled; a real renewal from the same address still renews", async () => {
  const svc = await createTestService();
  const secret = await createGroup(svc, "g");
  await createDevices(svc, "g", ["d"]);
  const { keys, issued } = await provisionDevice(svc, "g", "d", secret);
  const next = (await deviceCsr("d")).csr;
  const statuses: number[] = [];
  for (let i = 0; i < 12; i++) {
    const signature = Buffer.alloc(64, i + 1).toString("base64url");
    statuses.push(
      (
        await postJson(svc, "/v1/renew", {
          certificate: issued.certificate,
          csr: next,
          timestamp: new Date(svc.clock.now).toISOString(),
          signature,
        })
      ).status,
    );
  }
  expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
  expect(statuses.slice(10)).toEqual([429, 429]);
  const proof = await signRenewProof(keys.privateKey, issued.serial, next, new Date(svc.clock.now));
  const real = await postJson(svc, "/v1/renew", { certificate: issued.certificate, ...proof });
  expect(real.status).toBe(201);
});
