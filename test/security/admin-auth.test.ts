/** Admin routes refuse a missing, wrong or other tenant's token, and another tenant's token changes nothing. */

import { describe, expect, test } from "bun:test";
import {
  createDevices,
  createGroup,
  createTestService,
  postJson,
  provisionDevice,
  readProblem,
  deviceCsr,
} from "../helpers/test-service.ts";

/** Every admin route, on a group `g` and device `d` of the default tenant. */
const ROUTES: [string, string, unknown?][] = [
  ["GET", "/v1/groups"],
  ["POST", "/v1/groups", { name: "new-group" }],
  ["GET", "/v1/groups/g"],
  ["PATCH", "/v1/groups/g", { enrollment: "any", namePattern: "x-*" }],
  ["DELETE", "/v1/groups/g?force=true"],
  ["POST", "/v1/groups/g/secret"],
  ["POST", "/v1/groups/g/devices", { name: "e" }],
  ["POST", "/v1/groups/g/devices", { names: ["e", "f"] }],
  ["GET", "/v1/groups/g/devices"],
  ["GET", "/v1/groups/g/devices/d"],
  ["DELETE", "/v1/groups/g/devices/d"],
  ["POST", "/v1/groups/g/devices/d/revoke"],
  ["POST", "/v1/groups/g/devices/d/reset"],
];

async function setup() {
  const svc = await createTestService();
  const secret = await createGroup(svc, "g");
  await createDevices(svc, "g", ["d", "spare"]);
  const d = await provisionDevice(svc, "g", "d", secret);
  const other = await svc.ctx.tenants.create("other", svc.clock.now);
  if (!other) throw new Error("the second tenant was not created");
  return { svc, secret, d, otherToken: other.adminToken };
}

describe("admin routes", () => {
  for (const [method, path, body] of ROUTES) {
    test(`${method} ${path}: 401 without a token, with a wrong one, or with a malformed header`, async () => {
      const { svc } = await setup();
      for (const authorization of [
        undefined,
        "Bearer wrong-token",
        `Bearer ${svc.adminToken}x`,
        `Basic ${svc.adminToken}`,
        svc.adminToken,
      ]) {
        const headers: Record<string, string> = { authorization: authorization ?? "" };
        const res = await svc.call(
          method,
          path,
          body,
          authorization === undefined ? { authorization: "" } : headers,
        );
        expect(res.status).toBe(401);
        const problem = await readProblem(res);
        expect(problem.detail).not.toContain(svc.adminToken);
      }
    });

    test(`${method} ${path}: another tenant's token sees and changes nothing of this tenant`, async () => {
      const { svc, secret, d, otherToken } = await setup();
      const res = await svc.call(method, path, body, { authorization: `Bearer ${otherToken}` });
      if (path === "/v1/groups" && method === "GET") {
        expect(res.status).toBe(200);
        expect(((await res.json()) as { items: unknown[] }).items).toEqual([]);
      } else if (path === "/v1/groups" && method === "POST") {
        // Creating a group of the same name in one's own tenant is allowed; it must land there, not here.
        expect(res.status).toBe(201);
      } else {
        expect(res.status).toBe(404);
        await readProblem(res);
      }
      // This tenant is untouched: the group, its devices, its secret and the device certificate still work.
      const groups = (await (await svc.call("GET", "/v1/groups")).json()) as {
        items: { name: string }[];
      };
      expect(groups.items.map((g) => g.name)).toEqual(["g"]);
      const view = (await (await svc.call("GET", "/v1/groups/g")).json()) as { enrollment: string };
      expect(view.enrollment).toBe("registered");
      const devices = (await (await svc.call("GET", "/v1/groups/g/devices")).json()) as {
        items: { name: string; state: string; serial: string | null }[];
      };
      expect(devices.items.map((x) => `${x.name}:${x.state}`)).toEqual([
        "d:provisioned",
        "spare:created",
      ]);
      expect(devices.items[0]?.serial).toBe(d.issued.serial);
      const spare = await deviceCsr("spare");
      expect(
        (
          await postJson(svc, "/v1/provision", {
            group: "g",
            device: "spare",
            csr: spare.csr,
            secret,
          })
        ).status,
      ).toBe(201);
    });
  }
});
