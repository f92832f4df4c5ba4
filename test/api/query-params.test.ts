/**
 * Query parameters: every call under /v1 refuses one it does not read (400 naming it) instead of ignoring it,
 * takes each one it reads, and the clients that ship with IoTA (iotactl, the dashboard) send nothing else.
 */

import { afterEach, describe, expect, test } from "bun:test";
import { QUERY_PARAMS } from "../../src/iota-server/http/known-query.ts";
import { ApiClient } from "../../src/iotactl/client.ts";
import { Api } from "../../src/iota-server/ui/client/api.ts";
import { appFetch } from "../helpers/iotactl-in-process.ts";
import {
  createDevices,
  createGroup,
  createTestService,
  groupWithDevice,
  readProblem,
  type TestService,
} from "../helpers/test-service.ts";

/** A body each call that takes one would accept, so the parameter is the only thing wrong. */
const BODIES: Record<string, unknown> = {
  "POST /v1/groups": { name: "h" },
  "PATCH /v1/groups/:group": { enrollment: "registered" },
  "POST /v1/groups/:group/devices": { name: "e" },
  "POST /v1/groups/:group/devices/:device/reset": { forgetKey: true },
  "POST /v1/provision": {},
  "POST /v1/renew": {},
};

/** Every route under /v1 the app serves, as `METHOD pattern`. */
async function v1Routes(): Promise<string[]> {
  const svc = await createTestService();
  const routes = svc.app.routes
    .filter((r) => r.method !== "ALL" && r.path.startsWith("/v1/"))
    .map((r) => `${r.method} ${r.path}`);
  return [...new Set(routes)].sort();
}

/** `pattern` with its parameters filled in with the fixture's group and device. */
const pathOf = (pattern: string) => pattern.replace(":group", "g").replace(":device", "d");

/** A request for `route` (`METHOD pattern`) with `query`, and the body it takes if any. */
async function send(svc: TestService, route: string, query: string): Promise<Response> {
  const [method = "", pattern = ""] = route.split(" ");
  return await svc.call(method, `${pathOf(pattern)}${query}`, BODIES[route]);
}

describe("a parameter the call does not read", () => {
  test("every call under /v1 refuses it with a 400 naming it, and changes nothing", async () => {
    const routes = await v1Routes();
    expect(routes.length).toBeGreaterThan(15);
    const { svc, state } = await groupWithDevice();
    const before = await state();
    for (const route of routes) {
      const res = await send(svc, route, "?bogus=1");
      const problem = await readProblem(res);
      expect({ route, status: res.status, errors: problem.errors }).toEqual({
        route,
        status: 400,
        errors: [
          { field: "bogus", message: expect.stringContaining("is not a known query parameter") },
        ],
      });
    }
    expect(await state()).toEqual(before);
  });

  test("a misspelt filter is refused instead of listing every device, saying which it takes", async () => {
    const { svc } = await groupWithDevice();
    for (const name of ["State", "expiring_before", "limits"]) {
      const res = await svc.call("GET", `/v1/groups/g/devices?${name}=x`);
      expect(res.status).toBe(400);
      const problem = await readProblem(res);
      expect(problem.errors).toEqual([
        {
          field: name,
          message:
            "is not a known query parameter (check the spelling; this call takes limit, cursor, state, online, overdue, expiringBefore, q)",
        },
      ]);
      expect(problem.detail).toStartWith(`${name} is not a known query parameter`);
    }
  });

  test("each unknown parameter is named once; a call taking none says so; an empty query is none", async () => {
    const { svc } = await groupWithDevice();
    const res = await svc.call("GET", "/v1/status?limit=5&a=1&b&a=2");
    expect((await readProblem(res)).errors?.map((e) => e.field)).toEqual(["a", "b"]);
    const none = await svc.call("GET", "/v1/groups/g?force=true");
    expect((await readProblem(none)).errors).toEqual([
      { field: "force", message: "is not a known query parameter (this call takes none)" },
    ]);
    expect((await svc.call("GET", "/v1/groups/g?")).status).toBe(200);
  });

  test("provision and renew refuse it on Bun.serve's direct routes too", async () => {
    const svc = await createTestService();
    for (const path of ["/v1/provision", "/v1/renew"] as const) {
      const req = new Request(`http://iota.test${path}?group=g`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: "{}",
      });
      const res = await svc.routes[path].POST(req);
      expect(res.status).toBe(400);
      expect((await readProblem(res)).errors?.[0]?.field).toBe("group");
    }
  });

  test("a parameter given twice is refused everywhere as on a listing, rather than one of them winning", async () => {
    const { svc } = await groupWithDevice();
    for (const [method, path, field] of [
      ["DELETE", "/v1/groups/g?force=false&force=true", "force"],
      ["GET", "/v1/ca?tenant=default&tenant=other", "tenant"],
      ["GET", "/v1/crl?tenant=default&tenant=other", "tenant"],
      ["GET", "/v1/status?limit=1&limit=2", "limit"],
    ] as const) {
      const res = await svc.call(method, path);
      expect({ path, status: res.status }).toEqual({ path, status: 400 });
      expect((await readProblem(res)).errors).toEqual([
        { field, message: "is given more than once; give it once" },
      ]);
    }
    expect((await svc.call("GET", "/v1/groups/g")).status).toBe(200);
  });

  test("outside /v1 (probes, metrics, the dashboard's files) an added parameter is ignored", async () => {
    const { svc } = await groupWithDevice();
    for (const path of [
      "/healthz?x=1",
      "/readyz?x=1",
      "/metrics?x=1",
      "/ui/?v=2",
      "/ui/app.js?v=2",
    ])
      expect({ path, status: (await svc.call("GET", path)).status }).toEqual({ path, status: 200 });
  });
});

/** A valid value of each query parameter the service reads. */
const VALUES: Record<string, string> = {
  limit: "10",
  cursor: "a",
  state: "created",
  online: "false",
  overdue: "true",
  expiringBefore: "2030-01-01T00:00:00Z",
  q: "d",
  force: "true",
  tenant: "default",
};

test.each(
  Object.entries(QUERY_PARAMS).flatMap(([route, names]) => names.map((name) => [route, name])),
)("%s takes ?%s", async (route, name) => {
  const { svc } = await groupWithDevice();
  const value = VALUES[name];
  expect(value).toBeDefined();
  const res = await send(svc, route, `?${name}=${encodeURIComponent(value ?? "")}`);
  expect({ status: res.status, body: res.status < 300 ? "" : await res.text() }).toEqual({
    status: route.startsWith("DELETE") ? 204 : 200,
    body: "",
  });
});

describe("the clients that come with IoTA send only parameters the calls read", () => {
  const realFetch = globalThis.fetch;
  afterEach(() => {
    globalThis.fetch = realFetch;
  });

  test("iotactl: filtered listings, the fleet status pages, a forced group deletion and the device actions", async () => {
    const { svc } = await groupWithDevice();
    await createGroup(svc, "spare");
    await createDevices(svc, "g", ["e", "f"]);
    const client = new ApiClient("http://iota.test", svc.adminToken, appFetch(svc.app));
    const listed = async (filters: Record<string, string>) => {
      const names: string[] = [];
      for await (const device of client.devices("g", 2, filters)) names.push(device.name);
      return names;
    };
    expect(await listed({})).toEqual(["d", "e", "f"]);
    expect(await listed({ state: "created", online: "false" })).toEqual([]);
    expect(await listed({ overdue: "true" })).toEqual([]);
    const first = await client.status();
    expect((await client.status(undefined, "g")).groups?.map((g) => g.name)).toEqual(["spare"]);
    expect(first.devices.total).toBe(3);
    expect((await client.status("g")).devices.total).toBe(3);
    expect((await client.revokeDevice("g", "d")).state).toBe("revoked");
    expect((await client.resetDevice("g", "d", true)).state).toBe("created");
    expect((await client.resetDevice("g", "d")).state).toBe("created");
    await client.rotateSecret("g");
    await client.deleteDevice("g", "f");
    expect(await client.ca()).toContain("BEGIN CERTIFICATE");
    expect(await client.crl()).toContain("BEGIN X509 CRL");
    await client.deleteGroup("g", true);
    await client.deleteGroup("spare", false);
    expect((await client.listGroups()).items).toEqual([]);
  });

  test("the dashboard: device pages with every filter and a cursor, status pages, revoke and reset", async () => {
    const { svc } = await groupWithDevice();
    await createDevices(svc, "g", ["e", "f"]);
    globalThis.fetch = Object.assign(
      async (input: string | URL | Request, init?: RequestInit) =>
        await svc.app.request(String(input), init),
      { preconnect: realFetch.preconnect },
    );
    const api = new Api(svc.adminToken);
    const page = await api.devices("g", 2);
    expect(page.items.map((d) => d.name)).toEqual(["d", "e"]);
    expect((await api.devices("g", 2, page.nextCursor)).items.map((d) => d.name)).toEqual(["f"]);
    const filters = { state: "created", online: "false" as const, q: "d" };
    expect((await api.devices("g", 50, undefined, filters)).items).toEqual([]);
    const timed = { overdue: "true" as const, expiringBefore: "2030-01-01T00:00:00.000Z" };
    expect((await api.devices("g", 50, undefined, timed)).items).toEqual([]);
    expect((await api.fleetStatus())?.devices.total).toBe(3);
    expect((await api.fleetStatus("a"))?.groups?.map((g) => g.name)).toEqual(["g"]);
    expect((await api.groupStatus("g"))?.devices.total).toBe(3);
    expect((await api.history("g", "d"))?.map((e) => e.event)).toEqual(["created"]);
    expect((await api.revoke("g", "d")).state).toBe("revoked");
    expect((await api.reset("g", "d", true)).state).toBe("created");
    expect((await api.reset("g", "e", false)).state).toBe("created");
  });
});
