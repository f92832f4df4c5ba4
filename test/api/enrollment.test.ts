/** Group enrollment through the API: what a group's credential may create, set at creation or by PATCH, and provisioning in both modes. */

import { describe, expect, test } from "bun:test";
import { deviceToken } from "../../src/core/token.ts";
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

async function provision(svc: TestService, group: string, device: string, secret: string) {
  const { csr } = await deviceCsr(device);
  return await postJson(svc, "/v1/provision", { group, device, csr, secret });
}

async function group(svc: TestService, name: string): Promise<Record<string, unknown>> {
  return (await (await svc.call("GET", `/v1/groups/${name}`)).json()) as Record<string, unknown>;
}

async function deviceNames(svc: TestService, name: string): Promise<string[]> {
  const page = (await (await svc.call("GET", `/v1/groups/${name}/devices`)).json()) as {
    items: { name: string }[];
  };
  return page.items.map((d) => d.name);
}

/** The 400 answer naming `field`, and its message. */
async function fieldError(res: Response, field: string): Promise<string> {
  expect(res.status).toBe(400);
  const problem = await readProblem(res);
  const error = problem.errors?.find((e) => e.field === field);
  expect(error).toBeDefined();
  return error?.message ?? "";
}

describe("a group's enrollment setting", () => {
  test("registered by default; any needs a pattern and shows it with its hourly limit", async () => {
    const svc = await createTestService();
    await createGroup(svc, "plain");
    expect(await group(svc, "plain")).toMatchObject({ enrollment: "registered" });
    expect(await group(svc, "plain")).not.toHaveProperty("namePattern");
    await createGroup(svc, "open", { enrollment: "any", namePattern: "dev-*" });
    expect(await group(svc, "open")).toMatchObject({
      enrollment: "any",
      namePattern: "dev-*",
      enrollPerHour: 1000,
    });
    const listed = (await (await svc.call("GET", "/v1/groups")).json()) as {
      items: { name: string; enrollment: string }[];
    };
    expect(listed.items.map((g) => [g.name, g.enrollment])).toEqual([
      ["open", "any"],
      ["plain", "registered"],
    ]);
  });

  test.each([
    [{ enrollment: "any" }, "namePattern", 'is required with "enrollment": "any"'],
    [{ namePattern: "dev-*" }, "namePattern", 'applies only to a group with "enrollment": "any"'],
    [{ enrollPerHour: 10 }, "enrollPerHour", "applies only"],
    [{ enrollment: "open" }, "enrollment", 'must be "registered" or "any"'],
    [{ enrollment: "any", namePattern: "Dev_*" }, "namePattern", '"D"'],
    [{ enrollment: "any", namePattern: "" }, "namePattern", "is empty"],
    [{ enrollment: "any", namePattern: "x-*", enrollPerHour: 0 }, "enrollPerHour", "at least 1"],
    [{ enrollment: "any", namePattern: "x-*", enrollPerHour: 1.5 }, "enrollPerHour", "whole"],
  ])("creation refuses %j naming %p", async (extra, field, message) => {
    const svc = await createTestService();
    const res = await svc.call("POST", "/v1/groups", { name: "g", ...extra });
    expect(await fieldError(res, field)).toContain(message);
    expect((await svc.call("GET", "/v1/groups/g")).status).toBe(404);
  });

  test("PATCH changes it, checked whole; registered drops the pattern and limit", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    const patch = (body: unknown) => svc.call("PATCH", "/v1/groups/g", body);
    expect(await fieldError(await patch({ enrollment: "any" }), "namePattern")).toContain(
      "is required",
    );
    expect(await fieldError(await patch({ namePattern: "dev-*" }), "namePattern")).toContain(
      "applies only",
    );
    let res = await patch({ enrollment: "any", namePattern: "dev-*", enrollPerHour: 50 });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      name: "g",
      enrollment: "any",
      namePattern: "dev-*",
      enrollPerHour: 50,
      deviceCount: 0,
    });
    res = await patch({ namePattern: "gw-*" });
    expect(await res.json()).toMatchObject({ namePattern: "gw-*", enrollPerHour: 50 });
    expect(
      await fieldError(await patch({ enrollment: "registered", namePattern: "x" }), "namePattern"),
    ).toContain("applies only");
    res = await patch({ enrollment: "registered" });
    const view = (await res.json()) as Record<string, unknown>;
    expect(view.enrollment).toBe("registered");
    expect(view).not.toHaveProperty("namePattern");
    expect(view).not.toHaveProperty("enrollPerHour");
    expect(svc.log.lines.join("\n")).toContain("group default/g: enrollment any (names dev-*");
  });

  test("PATCH refuses an empty or unknown change, needs the admin token, and 404s an unknown group", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    expect((await svc.call("PATCH", "/v1/groups/g", {})).status).toBe(400);
    expect(
      await fieldError(await svc.call("PATCH", "/v1/groups/g", { validity: "1d" }), "validity"),
    ).toContain("not");
    expect((await svc.call("PATCH", "/v1/groups/nope", { enrollment: "registered" })).status).toBe(
      404,
    );
    const anonymous = await svc.app.request("/v1/groups/g", {
      method: "PATCH",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ enrollment: "any", namePattern: "*" }),
    });
    expect(anonymous.status).toBe(401);
    expect(await group(svc, "g")).toMatchObject({ enrollment: "registered" });
  });
});

describe("provisioning with a golden image's group secret", () => {
  test("registered: a created device provisions; an unregistered name is 404, and nothing is created", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "line-7");
    await createDevices(svc, "line-7", ["dev-aaa"]);
    expect((await provision(svc, "line-7", "dev-aaa", secret)).status).toBe(201);
    const refused = await provision(svc, "line-7", "dev-zzz", secret);
    expect(refused.status).toBe(404);
    expect((await readProblem(refused)).detail).toContain(
      'No device named "dev-zzz" in group "line-7": the group provisions only devices created in advance',
    );
    expect(await deviceNames(svc, "line-7")).toEqual(["dev-aaa"]);
  });

  test("any: a new name within the pattern is created and provisioned, marked enrolled; outside it, 404", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "open", { enrollment: "any", namePattern: "dev-*" });
    const res = await provision(svc, "open", "dev-0f3a", secret);
    expect(res.status).toBe(201);
    const device = (await (
      await svc.call("GET", "/v1/groups/open/devices/dev-0f3a")
    ).json()) as Record<string, unknown>;
    expect(device).toMatchObject({
      state: "provisioned",
      enrolledAt: new Date(svc.clock.now).toISOString(),
    });
    expect(svc.log.lines.join("\n")).toContain("enrolled device default/open/dev-0f3a");
    const outside = await provision(svc, "open", "prod-1", secret);
    expect(outside.status).toBe(404);
    expect((await readProblem(outside)).detail).toContain('enrolls only names matching "dev-*"');
    // A device token (derived from the same secret) enrolls too.
    const { csr } = await deviceCsr("dev-tok");
    const token = deviceToken(secret, "open", "dev-tok");
    expect(
      (await postJson(svc, "/v1/provision", { group: "open", device: "dev-tok", csr, token }))
        .status,
    ).toBe(201);
    expect(await deviceNames(svc, "open")).toEqual(["dev-0f3a", "dev-tok"]);
  });

  test("any: each name is provisioned once, by the first key; the second key gets 409", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "open", { enrollment: "any", namePattern: "dev-*" });
    await provisionDevice(svc, "open", "dev-1", secret);
    const squat = await provision(svc, "open", "dev-1", secret);
    expect(squat.status).toBe(409);
    expect((await readProblem(squat)).detail).toContain("already provisioned with another key");
  });

  test("any: without a valid credential nothing is created, inside or outside the pattern", async () => {
    const svc = await createTestService();
    await createGroup(svc, "open", { enrollment: "any", namePattern: "*" });
    for (const device of ["dev-1", "x"]) {
      const res = await provision(svc, "open", device, "wrong-secret");
      expect(res.status).toBe(401);
    }
    expect(await deviceNames(svc, "open")).toEqual([]);
  });

  test("any: a bad CSR is a 400 and uses no slot of the hour", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "open", {
      enrollment: "any",
      namePattern: "dev-*",
      enrollPerHour: 1,
    });
    const { csr } = await deviceCsr("someone-else");
    const res = await postJson(svc, "/v1/provision", {
      group: "open",
      device: "dev-1",
      csr,
      secret,
    });
    expect(res.status).toBe(400);
    expect(await deviceNames(svc, "open")).toEqual([]);
    expect((await provision(svc, "open", "dev-1", secret)).status).toBe(201);
  });

  test("any: at most enrollPerHour new devices per hour (429 with Retry-After); existing ones still provision", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "open", {
      enrollment: "any",
      namePattern: "dev-*",
      enrollPerHour: 2,
    });
    await createDevices(svc, "open", ["dev-made"]);
    expect((await provision(svc, "open", "dev-1", secret)).status).toBe(201);
    expect((await provision(svc, "open", "dev-2", secret)).status).toBe(201);
    const limited = await provision(svc, "open", "dev-3", secret);
    expect(limited.status).toBe(429);
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThan(3000);
    expect((await readProblem(limited)).detail).toContain(
      "enrolled its limit of 2 new devices this hour",
    );
    expect((await provision(svc, "open", "dev-made", secret)).status).toBe(201);
    expect(await deviceNames(svc, "open")).toEqual(["dev-1", "dev-2", "dev-made"]);
    svc.clock.advance(3600_000);
    expect((await provision(svc, "open", "dev-3", secret)).status).toBe(201);
  });

  test("switching back to registered stops enrollment at once; enrolled devices stay", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "open", { enrollment: "any", namePattern: "dev-*" });
    expect((await provision(svc, "open", "dev-1", secret)).status).toBe(201);
    expect((await svc.call("PATCH", "/v1/groups/open", { enrollment: "registered" })).status).toBe(
      200,
    );
    expect((await provision(svc, "open", "dev-2", secret)).status).toBe(404);
    expect(await deviceNames(svc, "open")).toEqual(["dev-1"]);
  });
});
