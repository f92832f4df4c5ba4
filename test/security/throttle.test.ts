/** Guessing is throttled: repeated wrong secrets or tokens get 429 with Retry-After, per source and group. */

import { expect, test } from "bun:test";
import { deviceToken } from "../../src/core/token.ts";
import {
  createDevices,
  createGroup,
  createTestService,
  deviceCsr,
  postJson,
  readProblem,
} from "../../src/iota-server/test-support.ts";

test("after 10 wrong secrets the group answers 429 with Retry-After, even to the right secret, until the wait is over", async () => {
  const svc = await createTestService();
  const secret = await createGroup(svc, "g");
  await createGroup(svc, "h");
  await createDevices(svc, "g", ["d"]);
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
  const blocked = await postJson(svc, "/v1/provision", { group: "g", device: "d", csr, secret });
  expect(blocked.status).toBe(429);
  const wait = Number(blocked.headers.get("retry-after"));
  expect(wait).toBeGreaterThanOrEqual(1);
  expect((await readProblem(blocked)).status).toBe(429);
  // Another group is not affected by this group's throttle.
  expect(
    (await postJson(svc, "/v1/provision", { group: "h", device: "d", csr, secret: "wrong" }))
      .status,
  ).toBe(401);
  svc.clock.advance(wait * 1000);
  expect(
    (await postJson(svc, "/v1/provision", { group: "g", device: "d", csr, secret })).status,
  ).toBe(201);
});

test("forged renewal proofs are throttled the same way", async () => {
  const svc = await createTestService();
  const secret = await createGroup(svc, "g");
  await createDevices(svc, "g", ["d"]);
  const { csr } = await deviceCsr("d");
  const issued = (await (
    await postJson(svc, "/v1/provision", { group: "g", device: "d", csr, secret })
  ).json()) as { certificate: string };
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
});
