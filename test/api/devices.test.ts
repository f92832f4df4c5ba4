/** Device routes: create one or many, list by pages, show, delete, revoke and reset. */

import { describe, expect, test } from "bun:test";
import {
  createDevices,
  createGroup,
  createTestService,
  deviceCsr,
  postJson,
  provisionDevice,
  readProblem,
} from "../helpers/test-service.ts";
import { BULK_MAX_NAMES } from "../../src/core/wire.ts";

interface Bulk {
  created: string[];
  existing: string[];
  invalid: { name: string; reason: string }[];
}

describe("POST /v1/groups/{group}/devices with { name }", () => {
  test("creates one device (201) in state created", async () => {
    const svc = await createTestService();
    await createGroup(svc, "room2-lights");
    const res = await svc.call("POST", "/v1/groups/room2-lights/devices", {
      name: "test-device-123",
    });
    expect(res.status).toBe(201);
    expect((await res.json()) as object).toMatchObject({
      group: "room2-lights",
      name: "test-device-123",
      state: "created",
      serial: null,
      notAfter: null,
      lastRenewal: null,
    });
  });

  test("409 for a duplicate, 404 for an unknown group, 400 naming the rule for a bad name", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    expect((await svc.call("POST", "/v1/groups/g/devices", { name: "d" })).status).toBe(201);
    const dup = await svc.call("POST", "/v1/groups/g/devices", { name: "d" });
    expect(dup.status).toBe(409);
    expect((await readProblem(dup)).detail).toContain('"d"');
    const noGroup = await svc.call("POST", "/v1/groups/nope/devices", { name: "d" });
    expect(noGroup.status).toBe(404);
    expect((await readProblem(noGroup)).detail).toContain('"nope"');
    const bad = await svc.call("POST", "/v1/groups/g/devices", { name: "Test_Device" });
    expect(bad.status).toBe(400);
    const problem = await readProblem(bad);
    expect(problem.errors?.some((e) => e.message.includes("uppercase"))).toBe(true);
  });

  test.each([
    [{ name: 7 }, "name: must be a string"],
    [{}, "name: is required"],
    [{ names: "a,b" }, "names: must be an array of names"],
    [{ names: [1, 2] }, "names.0: must be a string"],
  ])("refuses %p with 400", async (body, message) => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    const res = await svc.call("POST", "/v1/groups/g/devices", body);
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    expect(problem.errors?.length).toBeGreaterThan(0);
    expect(problem.detail).toContain(message);
  });
});

describe("POST /v1/groups/{group}/devices with an Idempotency-Key", () => {
  const KEY = "7c1f0f5e-2a9b-4c55-9d8e-0b6a1f3c2d4e";
  const create = (svc: Awaited<ReturnType<typeof createTestService>>, name: string, key: string) =>
    svc.call("POST", "/v1/groups/g/devices", { name }, { "idempotency-key": key });

  test("the same creation sent again answers 201 as the first did, and creates nothing more", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    const first = await create(svc, "d", KEY);
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    const firstBody = await first.json();
    svc.clock.advance(60_000);
    // The draft's structured-field form, quoted, is the same key.
    const again = await create(svc, "d", `"${KEY}"`);
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(await again.json()).toEqual(firstBody);
    const status = (await (await svc.call("GET", "/v1/groups/g/status")).json()) as {
      devices: { total: number; created: number };
    };
    expect(status.devices).toMatchObject({ total: 1, created: 1 });
  });

  test("the same key a day later is another creation: 409", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    expect((await create(svc, "d", KEY)).status).toBe(201);
    svc.clock.advance(24 * 3600 * 1000);
    expect((await create(svc, "d", KEY)).status).toBe(201);
    svc.clock.advance(1);
    expect((await create(svc, "d", KEY)).status).toBe(409);
  });

  test("another key, no key, or a device created without one still gets 409", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    expect((await create(svc, "d", KEY)).status).toBe(201);
    expect((await create(svc, "d", "another-key-of-16-chars")).status).toBe(409);
    expect((await svc.call("POST", "/v1/groups/g/devices", { name: "d" })).status).toBe(409);
    expect((await svc.call("POST", "/v1/groups/g/devices", { name: "plain" })).status).toBe(201);
    const late = await create(svc, "plain", KEY);
    expect(late.status).toBe(409);
    expect((await readProblem(late)).detail).toContain('"plain" already exists');
  });

  test("a name deleted and created again by someone else is not the first creation's", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    expect((await create(svc, "d", KEY)).status).toBe(201);
    expect((await svc.call("DELETE", "/v1/groups/g/devices/d")).status).toBe(204);
    expect((await create(svc, "d", "a-second-creation-key")).status).toBe(201);
    expect((await create(svc, "d", KEY)).status).toBe(409);
  });

  test.each([
    ["short", "too-short"],
    ["a space", "has a space in it somewhere"],
    ["too long", "k".repeat(129)],
    ["an empty quoted string", '""'],
  ])("400 naming the header for %s, and nothing created", async (_what, key) => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    const res = await create(svc, "d", key);
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    expect(problem.detail).toContain("Idempotency-Key must be 16 to 128 characters");
    expect(problem.errors?.[0]?.field).toBe("Idempotency-Key");
    expect((await svc.call("GET", "/v1/groups/g/devices/d")).status).toBe(404);
  });

  test("a bulk creation with a key is refused with 400: it reports existing names instead", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    const res = await svc.call(
      "POST",
      "/v1/groups/g/devices",
      { names: ["a", "b"] },
      { "idempotency-key": KEY },
    );
    expect(res.status).toBe(400);
    expect((await readProblem(res)).detail).toContain(
      "Idempotency-Key applies to creating one device",
    );
    expect((await svc.call("GET", "/v1/groups/g/devices/a")).status).toBe(404);
  });
});

describe("POST /v1/groups/{group}/devices with { names } (bulk)", () => {
  test("reports created, existing and invalid names with reasons; duplicates in a request count once", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    await createDevices(svc, "g", ["old-1"]);
    const res = await svc.call("POST", "/v1/groups/g/devices", {
      names: ["new-1", "old-1", "Bad", "new-1", "a--b", "new-2", ""],
    });
    expect(res.status).toBe(200);
    const bulk = (await res.json()) as Bulk;
    expect(bulk.created.sort()).toEqual(["new-1", "new-2"]);
    expect(bulk.existing).toEqual(["old-1"]);
    expect(bulk.invalid.map((i) => i.name)).toEqual(["Bad", "a--b", ""]);
    expect(bulk.invalid[0]?.reason).toContain("uppercase");
    expect(bulk.invalid[1]?.reason).toContain("two dashes");
    expect(bulk.invalid[2]?.reason).toContain("is empty");
    expect(
      ((await (await svc.call("GET", "/v1/groups/g")).json()) as { deviceCount: number })
        .deviceCount,
    ).toBe(3);
  });

  test("re-running the same list is safe: everything is then existing", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    const names = Array.from({ length: 250 }, (_, i) => `test-device-${i + 1}`);
    const first = (await (
      await svc.call("POST", "/v1/groups/g/devices", { names })
    ).json()) as Bulk;
    expect(first.created).toHaveLength(250);
    const again = (await (
      await svc.call("POST", "/v1/groups/g/devices", { names })
    ).json()) as Bulk;
    expect(again.created).toEqual([]);
    expect(again.existing.sort()).toEqual([...names].sort());
    expect(
      ((await (await svc.call("GET", "/v1/groups/g")).json()) as { deviceCount: number })
        .deviceCount,
    ).toBe(250);
  });

  test("an empty list creates nothing", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    const res = await svc.call("POST", "/v1/groups/g/devices", { names: [] });
    expect(res.status).toBe(200);
    expect((await res.json()) as Bulk).toEqual({ created: [], existing: [], invalid: [] });
  });

  test("100,000 names in one call are created, and the listing walks every one exactly once", async () => {
    const svc = await createTestService();
    await createGroup(svc, "factory");
    const names = Array.from({ length: BULK_MAX_NAMES }, (_, i) => `test-device-${i + 1}`);
    const res = await svc.call("POST", "/v1/groups/factory/devices", { names });
    expect(res.status).toBe(200);
    const bulk = (await res.json()) as Bulk;
    expect(bulk.created).toHaveLength(BULK_MAX_NAMES);
    expect(bulk.invalid).toEqual([]);
    expect(
      ((await (await svc.call("GET", "/v1/groups/factory")).json()) as { deviceCount: number })
        .deviceCount,
    ).toBe(BULK_MAX_NAMES);

    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = (await (
        await svc.call(
          "GET",
          `/v1/groups/factory/devices?limit=1000${cursor ? `&cursor=${cursor}` : ""}`,
        )
      ).json()) as { items: { name: string }[]; nextCursor?: string };
      for (const item of page.items) {
        expect(seen.has(item.name)).toBe(false);
        seen.add(item.name);
      }
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(seen.size).toBe(BULK_MAX_NAMES);
    expect(pages).toBe(100);
  }, 120_000);

  test("more than 100,000 names is a 400 asking for batches", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    const names = Array.from({ length: BULK_MAX_NAMES + 1 }, (_, i) => `d${i}`);
    const res = await svc.call("POST", "/v1/groups/g/devices", { names });
    expect(res.status).toBe(400);
    expect((await readProblem(res)).detail).toContain("batches");
    expect(
      ((await (await svc.call("GET", "/v1/groups/g")).json()) as { deviceCount: number })
        .deviceCount,
    ).toBe(0);
  }, 60_000);
});

describe("GET /v1/groups/{group}/devices", () => {
  test("pages in name order; limit and cursor walk every device exactly once", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    const names = Array.from({ length: 23 }, (_, i) => `d-${String(i).padStart(2, "0")}`);
    await createDevices(svc, "g", [...names].reverse());
    const walked: string[] = [];
    let cursor: string | undefined;
    const sizes: number[] = [];
    do {
      const res = await svc.call(
        "GET",
        `/v1/groups/g/devices?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
      );
      expect(res.status).toBe(200);
      const page = (await res.json()) as {
        items: { name: string; state: string }[];
        nextCursor?: string;
      };
      sizes.push(page.items.length);
      walked.push(...page.items.map((d) => d.name));
      cursor = page.nextCursor;
    } while (cursor);
    expect(walked).toEqual(names);
    expect(sizes).toEqual([5, 5, 5, 5, 3]);
  });

  test("a page exactly filling the group has no nextCursor; default limit is 100", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    await createDevices(
      svc,
      "g",
      Array.from({ length: 150 }, (_, i) => `d${i}`),
    );
    const first = (await (await svc.call("GET", "/v1/groups/g/devices")).json()) as {
      items: unknown[];
      nextCursor?: string;
    };
    expect(first.items).toHaveLength(100);
    expect(first.nextCursor).toBeDefined();
    const all = (await (await svc.call("GET", "/v1/groups/g/devices?limit=150")).json()) as {
      items: unknown[];
      nextCursor?: string;
    };
    expect(all.items).toHaveLength(150);
    expect(all.nextCursor).toBeUndefined();
  });

  test.each(["0", "-1", "1001", "abc", "2.5"])("limit=%p is a 400 naming limit", async (limit) => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    const res = await svc.call("GET", `/v1/groups/g/devices?limit=${limit}`);
    expect(res.status).toBe(400);
    expect((await readProblem(res)).errors?.[0]?.field).toBe("limit");
  });

  test("404 for an unknown group", async () => {
    const svc = await createTestService();
    expect((await svc.call("GET", "/v1/groups/nope/devices")).status).toBe(404);
  });
});

describe("GET and DELETE /v1/groups/{group}/devices/{device}", () => {
  test("shows state, serial and notAfter after provisioning", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "g");
    await createDevices(svc, "g", ["d"]);
    const { issued } = await provisionDevice(svc, "g", "d", secret);
    const res = await svc.call("GET", "/v1/groups/g/devices/d");
    expect(res.status).toBe(200);
    expect((await res.json()) as object).toMatchObject({
      name: "d",
      group: "g",
      state: "provisioned",
      serial: issued.serial,
      notAfter: issued.notAfter,
      lastRenewal: null,
    });
  });

  test("404 for an unknown device or group, 400 for a bad device name", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    expect((await svc.call("GET", "/v1/groups/g/devices/nope")).status).toBe(404);
    expect((await svc.call("GET", "/v1/groups/nope/devices/d")).status).toBe(404);
    expect((await svc.call("DELETE", "/v1/groups/g/devices/nope")).status).toBe(404);
    const bad = await svc.call("GET", "/v1/groups/g/devices/BAD");
    expect(bad.status).toBe(400);
    expect((await readProblem(bad)).errors?.[0]?.field).toBe("device");
  });

  test("delete removes the device; the name may be created again", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "g");
    await createDevices(svc, "g", ["d"]);
    await provisionDevice(svc, "g", "d", secret);
    expect((await svc.call("DELETE", "/v1/groups/g/devices/d")).status).toBe(204);
    expect((await svc.call("GET", "/v1/groups/g/devices/d")).status).toBe(404);
    expect((await svc.call("POST", "/v1/groups/g/devices", { name: "d" })).status).toBe(201);
  });
});

describe("revoke and reset", () => {
  test("revoke marks the device revoked; provisioning is then 403 until a reset", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "g");
    await createDevices(svc, "g", ["d"]);
    const first = await provisionDevice(svc, "g", "d", secret);
    const res = await svc.call("POST", "/v1/groups/g/devices/d/revoke");
    expect(res.status).toBe(200);
    expect(((await res.json()) as { state: string }).state).toBe("revoked");
    const again = await postJson(svc, "/v1/provision", {
      group: "g",
      device: "d",
      csr: first.csr,
      secret,
    });
    expect(again.status).toBe(403);
    expect((await readProblem(again)).detail).toContain("revoked");

    const reset = await svc.call("POST", "/v1/groups/g/devices/d/reset");
    expect(reset.status).toBe(200);
    expect((await reset.json()) as object).toMatchObject({ state: "created", serial: null });
    const fresh = await deviceCsr("d");
    const body = { group: "g", device: "d", csr: fresh.csr, secret };
    // Hint: after a reset the credential alone is not enough; the device proves its previous key (provision.test.ts).
    expect((await postJson(svc, "/v1/provision", body)).status).toBe(401);
    await svc.call("POST", "/v1/groups/g/devices/d/reset", { forgetKey: true });
    const after = await postJson(svc, "/v1/provision", body);
    expect(after.status).toBe(201);
    expect(((await after.json()) as { serial: string }).serial).not.toBe(first.issued.serial);
  });

  test("revoking a device that never provisioned works and blocks provisioning", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "g");
    await createDevices(svc, "g", ["d"]);
    expect((await svc.call("POST", "/v1/groups/g/devices/d/revoke")).status).toBe(200);
    expect(
      (
        await postJson(svc, "/v1/provision", {
          group: "g",
          device: "d",
          csr: (await deviceCsr("d")).csr,
          secret,
        })
      ).status,
    ).toBe(403);
  });

  test.each(["revoke", "reset"])("%s of an unknown device or group is 404", async (action) => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    expect((await svc.call("POST", `/v1/groups/g/devices/nope/${action}`)).status).toBe(404);
    expect((await svc.call("POST", `/v1/groups/nope/devices/d/${action}`)).status).toBe(404);
  });
});

test.each([
  ["GET", ""],
  ["DELETE", ""],
  ["GET", "/history"],
  ["POST", "/revoke"],
  ["POST", "/reset"],
])(
  "%s .../devices/{device}%s in a group that does not exist names the group, not the device",
  async (method, tail) => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    await createDevices(svc, "g", ["x"]);
    const res = await svc.call(method, `/v1/groups/nosuch/devices/x${tail}`);
    expect(res.status).toBe(404);
    expect((await readProblem(res)).detail).toBe('No group named "nosuch"');
    // A device of that name in another group is not touched.
    expect(
      ((await (await svc.call("GET", "/v1/groups/g/devices/x")).json()) as { state: string }).state,
    ).toBe("created");
  },
);
