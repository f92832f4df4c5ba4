/** Group routes: create, list, show, delete, rotate the provisioning secret, with their error answers. */

import { describe, expect, test } from "bun:test";
import {
  createDevices,
  createGroup,
  createTestService,
  deviceCsr,
  postJson,
  readProblem,
} from "../helpers/test-service.ts";
import { deviceToken } from "../../src/core/token.ts";
import { NAME_RULE } from "../../src/core/names.ts";

describe("POST /v1/groups", () => {
  test("creates a group and shows its 256-bit secret once, with the default 30-day validity", async () => {
    const svc = await createTestService();
    const res = await svc.call("POST", "/v1/groups", { name: "room2-lights" });
    expect(res.status).toBe(201);
    const group = (await res.json()) as Record<string, unknown>;
    expect(group.name).toBe("room2-lights");
    expect(group.provisioningSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(group.validity).toBe(30 * 86400);
    expect(group.renewGrace).toBe(7 * 86400);
    const shown = (await (await svc.call("GET", "/v1/groups/room2-lights")).json()) as Record<
      string,
      unknown
    >;
    expect(shown.provisioningSecret).toBeUndefined();
    expect(JSON.stringify(shown)).not.toContain(String(group.provisioningSecret));
  });

  test.each([
    ["1h", 3600],
    ["90s", 90],
    [120, 120],
    ["1d12h", 129600],
  ])("accepts validity %p as %p seconds", async (validity, seconds) => {
    const svc = await createTestService();
    const res = await svc.call("POST", "/v1/groups", { name: "g", validity });
    expect(res.status).toBe(201);
    expect(((await res.json()) as { validity: number }).validity).toBe(seconds);
  });

  test("refuses a duplicate group with 409", async () => {
    const svc = await createTestService();
    await createGroup(svc, "dup");
    const res = await svc.call("POST", "/v1/groups", { name: "dup" });
    expect(res.status).toBe(409);
    expect((await readProblem(res)).detail).toContain('"dup"');
  });

  test.each([
    ["Room2", "uppercase"],
    ["room--2", "two dashes"],
    ["-room", "starts or ends with a dash"],
    ["room_2", '"_"'],
    ["", "is empty"],
    ["x".repeat(64), "64 characters"],
  ])("refuses the name %p with 400 naming the rule broken", async (name, rule) => {
    const svc = await createTestService();
    const res = await svc.call("POST", "/v1/groups", { name });
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    expect(problem.status).toBe(400);
    expect(problem.errors).toHaveLength(1);
    expect(problem.errors?.[0]?.field).toBe("name");
    expect(problem.errors?.[0]?.message).toContain(rule);
    expect(problem.errors?.[0]?.message).toContain(NAME_RULE);
  });

  test.each([
    [{ name: 42 }, "name", "must be a string"],
    [{}, "name", "is required"],
    [{ name: "g", validity: "forever" }, "validity", "must be a duration"],
    [{ name: "g", validity: 59 }, "validity", "between 60"],
    [{ name: "g", validity: true }, "validity", "must be a duration"],
    [{ name: "g", renewGrace: "-1d" }, "renewGrace", "must be a duration"],
  ])("refuses %p with 400 naming field %p", async (body, field, message) => {
    const svc = await createTestService();
    const res = await svc.call("POST", "/v1/groups", body);
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    expect(problem.errors).toContainEqual({ field, message: expect.stringContaining(message) });
  });

  test.each(["null", '"room2-lights"', "42"])(
    "a JSON body %p that is not an object is a 400 on the body",
    async (text) => {
      const svc = await createTestService();
      const res = await svc.call("POST", "/v1/groups", text);
      expect(res.status).toBe(400);
      expect((await readProblem(res)).errors).toEqual([
        { field: "(body)", message: expect.stringContaining("must be a JSON object") },
      ]);
    },
  );
});

describe("GET /v1/groups and /v1/groups/{group}", () => {
  test("lists groups in name order with device counts", async () => {
    const svc = await createTestService();
    await createGroup(svc, "b-group");
    await createGroup(svc, "a-group");
    await createDevices(svc, "b-group", ["d1", "d2"]);
    const res = await svc.call("GET", "/v1/groups");
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { name: string; deviceCount: number }[] };
    expect(items.map((g) => [g.name, g.deviceCount])).toEqual([
      ["a-group", 0],
      ["b-group", 2],
    ]);
    expect(JSON.stringify(items)).not.toContain("provisioningSecret");
  });

  test("shows one group with its device count; 404 for an unknown one", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g", { validity: "1h" });
    await createDevices(svc, "g", ["a", "b", "c"]);
    const res = await svc.call("GET", "/v1/groups/g");
    expect(res.status).toBe(200);
    expect((await res.json()) as object).toMatchObject({
      name: "g",
      validity: 3600,
      deviceCount: 3,
    });
    const missing = await svc.call("GET", "/v1/groups/nope");
    expect(missing.status).toBe(404);
    expect((await readProblem(missing)).detail).toContain('"nope"');
  });

  test("a bad group name in the path is a 400 naming the parameter", async () => {
    const svc = await createTestService();
    const res = await svc.call("GET", "/v1/groups/Bad_Name");
    expect(res.status).toBe(400);
    expect((await readProblem(res)).errors?.[0]).toMatchObject({
      field: "group",
      message: expect.stringContaining("uppercase"),
    });
  });
});

describe("DELETE /v1/groups/{group}", () => {
  test("deletes an empty group", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    expect((await svc.call("DELETE", "/v1/groups/g")).status).toBe(204);
    expect((await svc.call("GET", "/v1/groups/g")).status).toBe(404);
    expect((await svc.call("DELETE", "/v1/groups/g")).status).toBe(404);
  });

  test("refuses a group with devices (409) unless force=true, which deletes the devices too", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    await createDevices(svc, "g", ["a", "b"]);
    const refused = await svc.call("DELETE", "/v1/groups/g");
    expect(refused.status).toBe(409);
    expect((await readProblem(refused)).detail).toContain(
      "iotactl delete group --force; DELETE /v1/groups/g?force=true",
    );
    expect((await svc.call("GET", "/v1/groups/g")).status).toBe(200);
    expect((await svc.call("DELETE", "/v1/groups/g?force=maybe")).status).toBe(400);
    expect((await svc.call("DELETE", "/v1/groups/g?force=true")).status).toBe(204);
    expect((await svc.call("GET", "/v1/groups/g")).status).toBe(404);
    // The name is free again and the new group starts empty.
    await createGroup(svc, "g");
    expect(
      ((await (await svc.call("GET", "/v1/groups/g")).json()) as { deviceCount: number })
        .deviceCount,
    ).toBe(0);
  });
});

describe("POST /v1/groups/{group}/secret", () => {
  test("rotation refuses the old secret and the old tokens, and accepts the new ones", async () => {
    const svc = await createTestService();
    const old = await createGroup(svc, "g");
    await createDevices(svc, "g", ["a", "b", "c", "d"]);
    const res = await svc.call("POST", "/v1/groups/g/secret");
    expect(res.status).toBe(200);
    const rotated = (await res.json()) as { provisioningSecret: string; name: string };
    expect(rotated.name).toBe("g");
    expect(rotated.provisioningSecret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(rotated.provisioningSecret).not.toBe(old);

    const provision = async (device: string, credential: { secret: string } | { token: string }) =>
      await postJson(svc, "/v1/provision", {
        group: "g",
        device,
        csr: (await deviceCsr(device)).csr,
        ...credential,
      });
    expect((await provision("a", { secret: old })).status).toBe(401);
    expect((await provision("b", { token: deviceToken(old, "g", "b") })).status).toBe(401);
    expect((await provision("c", { secret: rotated.provisioningSecret })).status).toBe(201);
    expect(
      (await provision("d", { token: deviceToken(rotated.provisioningSecret, "g", "d") })).status,
    ).toBe(201);
  });

  test("404 for an unknown group", async () => {
    const svc = await createTestService();
    expect((await svc.call("POST", "/v1/groups/nope/secret")).status).toBe(404);
  });
});
