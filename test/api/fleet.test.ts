/** The fleet API in-process: summaries, filtered device pages, history, and GET /metrics with bounded labels. */

import { beforeAll, describe, expect, test } from "bun:test";
import type { FleetStatus } from "../../src/core/fleet.ts";
import type { DeviceView, Page } from "../../src/core/wire.ts";
import {
  createDevices,
  createGroup,
  createTestService,
  provisionDevice,
  readProblem,
  type TestService,
} from "../helpers/test-service.ts";

const HOUR = 3_600_000;

/** Reports devices of `group` online or offline, as a broker would. */
async function seen(svc: TestService, group: string, online: Record<string, boolean>) {
  await svc.store.applyReadiness(
    Object.entries(online).map(([device, on]) => ({
      tenant: "default",
      group,
      device,
      online: on,
      at: svc.clock.now,
    })),
  );
}

async function json<T>(svc: TestService, path: string): Promise<T> {
  const res = await svc.call("GET", path);
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${await res.text()}`);
  expect(res.headers.get("cache-control")).toBe("no-store");
  return (await res.json()) as T;
}

/** A fleet: `lamps` (30-day certificates) with every state and readiness, `fans` (1-hour certificates). */
async function fleet(): Promise<{ svc: TestService; renewAt: Record<string, number> }> {
  const svc = await createTestService();
  // Hint: late in an hour, so the fans' renewals (within 40 minutes) fall in the next hour's bucket too.
  svc.clock.now = Math.floor(svc.clock.now / HOUR) * HOUR + 55 * 60_000;
  const lamps = await createGroup(svc, "lamps");
  const fans = await createGroup(svc, "fans", { validity: "1h" });
  await createDevices(svc, "lamps", ["l-1", "l-2", "l-3", "l-4", "l-5", "l-6"]);
  await createDevices(svc, "fans", ["f-1", "f-2"]);
  const renewAt: Record<string, number> = {};
  for (const d of ["l-1", "l-2", "l-3", "l-4"])
    renewAt[d] = Date.parse((await provisionDevice(svc, "lamps", d, lamps)).issued.renewAt);
  for (const d of ["f-1", "f-2"])
    renewAt[d] = Date.parse((await provisionDevice(svc, "fans", d, fans)).issued.renewAt);
  expect((await svc.call("POST", "/v1/groups/lamps/devices/l-4/revoke")).status).toBe(200);
  await seen(svc, "lamps", { "l-1": true, "l-2": true, "l-3": false, "l-4": true, "l-5": true });
  return { svc, renewAt };
}

describe("GET /v1/status and /v1/groups/{group}/status", () => {
  test("counts devices by state and readiness; online and offline count provisioned devices only", async () => {
    const { svc } = await fleet();
    const status = await json<FleetStatus>(svc, "/v1/status");
    expect(status.devices).toEqual({ total: 8, created: 2, provisioned: 5, revoked: 1 });
    expect([status.online, status.offline]).toEqual([2, 1]);
    expect(status.at).toBe(new Date(svc.clock.now).toISOString());
    expect(status.groups?.map((g) => [g.name, g.devices.total, g.online, g.offline])).toEqual([
      ["fans", 2, 0, 0],
      ["lamps", 6, 2, 1],
    ]);
    const lamps = await json<FleetStatus>(svc, "/v1/groups/lamps/status");
    expect(lamps.devices).toEqual({ total: 6, created: 2, provisioned: 3, revoked: 1 });
    expect(lamps.groups).toBeUndefined();
    // A device that goes offline shows at once.
    await seen(svc, "lamps", { "l-1": false });
    expect((await json<FleetStatus>(svc, "/v1/groups/lamps/status")).online).toBe(1);
  });

  test("expiring certificates, overdue renewals and the forecast follow the clock", async () => {
    const { svc, renewAt } = await fleet();
    const before = await json<FleetStatus>(svc, "/v1/status");
    expect([before.expiringWithin24h, before.expiringWithin7d, before.overdueRenewals]).toEqual([
      2, 2, 0,
    ]);
    expect(before.overdueSlackSeconds).toBe(3600);
    // From the current hour to past now + the longest renewal period: each device renews once. A first renewal
    // is spread up to 2/3 + 1/40 of the lifetime (30 days: 480 + 18 hours), so the forecast reaches that far.
    expect(before.forecast.bucketSeconds).toBe(3600);
    const from = Date.parse(before.forecast.from);
    expect(from % HOUR).toBe(0);
    expect(svc.clock.now - from).toBeLessThan(HOUR);
    const hours = Math.ceil((svc.clock.now - from + 498 * HOUR) / HOUR);
    expect(before.forecast.renewals).toHaveLength(hours);
    const expected = new Array<number>(hours).fill(0);
    for (const d of ["l-1", "l-2", "l-3", "f-1", "f-2"]) {
      const i = Math.floor(((renewAt[d] ?? 0) - from) / HOUR);
      expected[i] = (expected[i] ?? 0) + 1;
    }
    expect(before.forecast.renewals).toEqual(expected);
    const fans = await json<FleetStatus>(svc, "/v1/groups/fans/status");
    expect(fans.forecast.renewals.reduce((a, b) => a + b, 0)).toBe(2);
    expect(fans.forecast.renewals.length).toBe(
      Math.ceil((svc.clock.now - from + 41.5 * 60_000) / HOUR),
    );

    // Two hours on: the fans' 1-hour certificates expired without renewing, so their renewals are overdue.
    svc.clock.advance(2 * HOUR + 1);
    const after = await json<FleetStatus>(svc, "/v1/status");
    expect([after.expiringWithin24h, after.overdueRenewals]).toEqual([0, 2]);
    expect(after.groups?.find((g) => g.name === "fans")?.overdueRenewals).toBe(2);
    expect(after.forecast.renewals.reduce((a, b) => a + b, 0)).toBe(3);
  });

  test("groups page with ?limit and ?cursor; errors name what is wrong", async () => {
    const { svc } = await fleet();
    const first = await json<FleetStatus>(svc, "/v1/status?limit=1");
    expect(first.groups?.map((g) => g.name)).toEqual(["fans"]);
    expect(first.nextCursor).toBe("fans");
    expect(first.devices.total).toBe(8);
    const second = await json<FleetStatus>(svc, `/v1/status?limit=1&cursor=${first.nextCursor}`);
    expect(second.groups?.map((g) => g.name)).toEqual(["lamps"]);
    expect(second.nextCursor).toBeUndefined();
    for (const [query, field] of [
      ["limit=0", "limit"],
      ["cursor=%00%FF", "cursor"],
      ["cursor=fans&cursor=lamps", "cursor"],
    ])
      expect(
        (await readProblem(await svc.call("GET", `/v1/status?${query}`))).errors?.[0]?.field,
      ).toBe(field);
    expect((await svc.call("GET", "/v1/groups/nope/status")).status).toBe(404);
    expect(
      (await readProblem(await svc.call("GET", "/v1/groups/No/status"))).errors?.[0]?.field,
    ).toBe("group");
    for (const path of ["/v1/status", "/v1/groups/lamps/status"]) {
      const res = await svc.app.request(path);
      expect(res.status).toBe(401);
    }
  });
});

describe("GET /v1/groups/{group}/devices filters", () => {
  let svc: TestService;
  let renewAt: Record<string, number>;

  beforeAll(async () => {
    ({ svc, renewAt } = await fleet());
  });

  const names = async (query: string) =>
    (await json<Page<DeviceView>>(svc, `/v1/groups/lamps/devices?${query}`)).items.map(
      (d) => d.name,
    );

  test("state, online, name prefix, combined", async () => {
    expect(await names("state=created")).toEqual(["l-5", "l-6"]);
    expect(await names("online=true")).toEqual(["l-1", "l-2", "l-4", "l-5"]);
    expect(await names("online=false")).toEqual(["l-3"]);
    expect(await names("state=provisioned&online=true")).toEqual(["l-1", "l-2"]);
    expect(await names("q=l-")).toHaveLength(6);
    expect(await names("q=l-6")).toEqual(["l-6"]);
  });

  test("device items carry renewAt, online and seenAt", async () => {
    const d = await json<DeviceView>(svc, "/v1/groups/lamps/devices/l-1");
    expect(d.renewAt).toBe(new Date(renewAt["l-1"] ?? 0).toISOString());
    expect(d.online).toBe(true);
    expect(d.seenAt).toBe(new Date(svc.clock.now).toISOString());
    const never = await json<DeviceView>(svc, "/v1/groups/lamps/devices/l-6");
    expect([never.renewAt, never.online, never.seenAt]).toEqual([null, null, null]);
  });

  test("expiringBefore orders by expiry; overdue by planned renewal; cursors follow the order", async () => {
    const fans = await json<Page<DeviceView>>(
      svc,
      `/v1/groups/fans/devices?expiringBefore=${new Date(svc.clock.now + 2 * HOUR).toISOString()}&limit=1`,
    );
    expect(fans.items).toHaveLength(1);
    expect(fans.nextCursor).toMatch(/^\d+\.f-\d$/);
    const rest = await json<Page<DeviceView>>(
      svc,
      `/v1/groups/fans/devices?expiringBefore=${new Date(svc.clock.now + 2 * HOUR).toISOString()}&cursor=${fans.nextCursor}`,
    );
    expect([...fans.items, ...rest.items].map((d) => d.name).sort()).toEqual(["f-1", "f-2"]);
    expect(Date.parse(fans.items[0]?.notAfter ?? "")).toBeLessThanOrEqual(
      Date.parse(rest.items[0]?.notAfter ?? ""),
    );
    expect(
      (await json<Page<DeviceView>>(svc, "/v1/groups/fans/devices?overdue=true")).items,
    ).toEqual([]);
    svc.clock.advance(3 * HOUR);
    const overdue = await json<Page<DeviceView>>(svc, "/v1/groups/fans/devices?overdue=true");
    const order = ["f-1", "f-2"].sort((a, b) => (renewAt[a] ?? 0) - (renewAt[b] ?? 0));
    expect(overdue.items.map((d) => d.name)).toEqual(order);
    svc.clock.advance(-3 * HOUR);
  });

  test("a bad value is a 400 naming the parameter", async () => {
    for (const [query, field] of [
      ["state=lost", "state"],
      ["online=yes", "online"],
      ["overdue=false", "overdue"],
      ["expiringBefore=tomorrow", "expiringBefore"],
      ["q=Lamp", "q"],
      ["limit=1001", "limit"],
      ["overdue=true&cursor=l-1", "cursor"],
      ["cursor=%00%FF", "cursor"],
      ["overdue=true&cursor=12.%00", "cursor"],
      ["state=created&state=revoked", "state"],
      ["limit=1&limit=2", "limit"],
    ]) {
      const res = await svc.call("GET", `/v1/groups/lamps/devices?${query}`);
      expect({ query, status: res.status }).toEqual({ query, status: 400 });
      expect((await readProblem(res)).errors?.[0]?.field).toBe(field);
    }
  });
});

test("GET .../history: created, provisioned, revoked, reset (with the serial held), oldest first", async () => {
  const svc = await createTestService();
  const secret = await createGroup(svc, "g");
  await createDevices(svc, "g", ["d"]);
  const { issued } = await provisionDevice(svc, "g", "d", secret);
  svc.clock.advance(1000);
  await svc.call("POST", "/v1/groups/g/devices/d/revoke");
  svc.clock.advance(1000);
  await svc.call("POST", "/v1/groups/g/devices/d/reset", { forgetKey: true });
  const history = await json<{ items: { event: string; serial: string | null }[] }>(
    svc,
    "/v1/groups/g/devices/d/history",
  );
  expect(history.items.map((i) => [i.event, i.serial])).toEqual([
    ["created", null],
    ["provisioned", issued.serial],
    ["revoked", issued.serial],
    ["reset", issued.serial],
  ]);
  expect((await svc.call("GET", "/v1/groups/g/devices/nope/history")).status).toBe(404);
});

describe("GET /metrics", () => {
  test("needs the admin token; shows the fleet's counts and the certificates issued", async () => {
    const { svc } = await fleet();
    expect((await svc.app.request("/metrics")).status).toBe(401);
    const res = await svc.call("GET", "/metrics");
    expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
    const text = await res.text();
    expect(text).toContain('iota_certificates_issued_total{kind="provision"} 6\n');
    expect(text).toContain('iota_certificates_issued_total{kind="renew"} 0\n');
    expect(text).toContain('iota_devices{group="lamps",state="provisioned"} 3\n');
    expect(text).toContain('iota_devices{group="lamps",state="revoked"} 1\n');
    expect(text).toContain('iota_devices_online{group="lamps"} 2\n');
    expect(text).toContain('iota_devices_offline{group="lamps"} 1\n');
    expect(text).toContain('iota_renewals_overdue{group="fans"} 0\n');
    expect(text).toContain(
      'iota_http_request_duration_seconds_count{method="POST",route="/v1/groups/{group}/devices/{device}/revoke",status="2xx"} 1\n',
    );
    expect(text).toMatch(
      /iota_request_failures_total\{route="\/metrics",reason="unauthorized"\} 1\n/,
    );
  });

  test("per-group series for the largest groups only, the rest summed under _other; unknown paths are one label", async () => {
    const svc = await createTestService({ metricsGroups: 1 });
    for (const [group, size] of [
      ["a", 1],
      ["b", 3],
      ["c", 2],
    ] as const) {
      await createGroup(svc, group);
      await createDevices(
        svc,
        group,
        Array.from({ length: size }, (_, i) => `d-${i}`),
      );
    }
    for (let i = 0; i < 5; i++) await svc.call("GET", `/v1/unknown-${i}`);
    const text = await (await svc.call("GET", "/metrics")).text();
    const series = text.split("\n").filter((l) => l.startsWith("iota_devices{"));
    expect(series).toEqual([
      'iota_devices{group="b",state="created"} 3',
      'iota_devices{group="b",state="provisioned"} 0',
      'iota_devices{group="b",state="revoked"} 0',
      'iota_devices{group="_other",state="created"} 3',
      'iota_devices{group="_other",state="provisioned"} 0',
      'iota_devices{group="_other",state="revoked"} 0',
    ]);
    expect(text).toContain("iota_groups 3\n");
    expect(text).not.toContain("unknown-");
    expect(text).toContain(
      'iota_http_request_duration_seconds_count{method="GET",route="unmatched",status="4xx"} 5\n',
    );
  });
});
