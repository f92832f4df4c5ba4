/**
 * The store's fleet part on both engines: the counters and the renewal forecast always equal a recount of the
 * devices, whatever mix of writes (also concurrent ones on PostgreSQL); filtered pages equal a plain filter of
 * every device; migration 4 fills what older versions did not keep; readiness writes only changes.
 */

import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { REGISTERED } from "../../src/core/enrollment.ts";
import { openStore, type SqlStore } from "../../src/iota-server/store/sql-store.ts";
import { MIGRATIONS } from "../../src/iota-server/store/migrations.ts";
import type { DeviceKey, DeviceRecord, Issuance } from "../../src/iota-server/store/store.ts";
import type {
  DeviceAfter,
  DeviceFilter,
  DeviceOrder,
} from "../../src/iota-server/store/fleet-store.ts";
import { filterDevices } from "../../src/iota-server/store/device-pages.ts";
import type { Query } from "../../src/iota-server/store/sql-driver.ts";
import { DEFAULT_RENEWAL_POLICY, renewalTime, serialRandom } from "../../src/core/renewal.ts";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { createPrng } from "../fuzz/prng.ts";

const T = "acme";
const NOW = 1_800_000_000_000;
const DAY = 86_400_000;
const HOUR = 3_600_000;
const GROUPS = ["g-a", "g-b"];

let pg: TestPostgres | undefined;
const tmp = mkdtempSync(join(tmpdir(), "iota-fleet-store-"));
let fileNo = 0;

beforeAll(async () => {
  pg = await startTestPostgres();
}, 120_000);

afterAll(async () => {
  await pg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const ENGINES = [
  {
    name: "sqlite" as const,
    freshUrl: async () => `sqlite:${join(tmp, `fleet-${fileNo++}.db`)}`,
    raw: (url: string) => new SQL({ adapter: "sqlite", filename: url.slice("sqlite:".length) }),
  },
  {
    name: "postgres" as const,
    freshUrl: async () => {
      if (!pg) throw new Error("PostgreSQL did not start (see the beforeAll error above)");
      return await pg.createDatabase();
    },
    raw: (url: string) => new SQL(url, { max: 1 }),
  },
];

let serialNo = 0;
function issuance(issuedAt: number, lifetime = 30 * DAY): Issuance {
  const serial = (++serialNo).toString(16).padStart(32, "0");
  return {
    serial,
    keyHash: `k${serial}`,
    certificate: `PEM ${serial}`,
    notBefore: issuedAt - 60_000,
    notAfter: issuedAt + lifetime,
    issuedAt,
  };
}

const key = (group: string, name: string): DeviceKey => ({ tenantId: T, group, name });

/** Every device of the tenant, read without the store's counters or indexes. */
async function allDevices(store: SqlStore): Promise<DeviceRecord[]> {
  const out: DeviceRecord[] = [];
  for (const g of GROUPS) out.push(...(await store.listDevices(T, g, 100_000)));
  return out;
}

/** The counters and forecast recounted from the devices themselves. */
async function expectCountersMatch(store: SqlStore, fromHour: number, hours: number) {
  const devices = await allDevices(store);
  for (const g of GROUPS) {
    const mine = devices.filter((d) => d.group === g);
    const [tally] = await store.groupTallies(T, { names: [g] });
    const count = (state: string) => mine.filter((d) => d.state === state).length;
    expect(tally?.byState).toEqual({
      created: count("created"),
      provisioned: count("provisioned"),
      revoked: count("revoked"),
    });
    const provisioned = mine.filter((d) => d.state === "provisioned");
    expect(tally?.online).toBe(provisioned.filter((d) => d.online === true).length);
    expect(tally?.offline).toBe(provisioned.filter((d) => d.online === false).length);
    expect(await store.countDevices(T, g)).toBe(mine.length);
  }
  const expected = (group?: string) => {
    const counts = new Array<number>(hours).fill(0);
    for (const d of devices) {
      if (d.state !== "provisioned" || d.renewAt === null) continue;
      if (group !== undefined && d.group !== group) continue;
      const i = Math.floor(d.renewAt / HOUR) - fromHour;
      if (i >= 0 && i < hours) counts[i] = (counts[i] ?? 0) + 1;
    }
    return counts;
  };
  expect(await store.renewalForecast(T, undefined, fromHour, hours)).toEqual(expected());
  for (const g of GROUPS)
    expect(await store.renewalForecast(T, g, fromHour, hours)).toEqual(expected(g));
  await expectOverdueMatch(store, devices);
}

/**
 * The overdue counts (per group and tenant-wide) and the overdue pages equal a recount of the devices, at every
 * planned renewal as the boundary: they read `renewal_keys`, which on SQLite every write keeps in step in memory.
 */
async function expectOverdueMatch(store: SqlStore, devices: DeviceRecord[]) {
  const planned = devices.filter((d) => d.state === "provisioned" && d.renewAt !== null);
  const bounds = [...new Set(planned.map((d) => (d.renewAt ?? 0) + 1)), 0, Number.MAX_SAFE_INTEGER];
  for (const before of bounds) {
    const overdue = planned.filter((d) => (d.renewAt ?? 0) < before);
    const due = await store.groupDue(T, NOW, before, { names: GROUPS });
    expect(due.length).toBeGreaterThan(0);
    expect({ before, due: due.map((g) => [g.group, g.overdue]) }).toEqual({
      before,
      due: due.map((g) => [g.group, overdue.filter((d) => d.group === g.group).length]),
    });
    expect((await store.fleetCounts(T, NOW, before)).overdue).toBe(overdue.length);
  }
  for (const g of GROUPS)
    expect(
      await pageThrough(store, g, { renewBefore: Number.MAX_SAFE_INTEGER }, "renewAt", 7),
    ).toEqual(expectedPage(devices, g, { renewBefore: Number.MAX_SAFE_INTEGER }, "renewAt"));
}

/** A plain filter of every device of `group`, in the page order. */
function expectedPage(
  devices: DeviceRecord[],
  group: string,
  f: DeviceFilter,
  order: DeviceOrder,
): string[] {
  const timed = f.renewBefore !== undefined || f.expiringBefore !== undefined;
  return devices
    .filter(
      (d) =>
        d.group === group &&
        (f.state === undefined || d.state === f.state) &&
        (f.online === undefined || d.online === f.online) &&
        (!timed || d.state === "provisioned") &&
        (f.renewBefore === undefined || (d.renewAt ?? Infinity) < f.renewBefore) &&
        (f.expiringBefore === undefined || (d.notAfter ?? Infinity) < f.expiringBefore) &&
        (f.prefix === undefined || d.name.startsWith(f.prefix)),
    )
    .sort((a, b) => {
      const ka =
        order === "renewAt" ? (a.renewAt ?? 0) : order === "notAfter" ? (a.notAfter ?? 0) : 0;
      const kb =
        order === "renewAt" ? (b.renewAt ?? 0) : order === "notAfter" ? (b.notAfter ?? 0) : 0;
      return ka - kb || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
    })
    .map((d) => d.name);
}

/** Every page of a filter, following the last item of each page. */
async function pageThrough(
  store: SqlStore,
  group: string,
  f: DeviceFilter,
  order: DeviceOrder,
  limit: number,
): Promise<string[]> {
  const seen: string[] = [];
  let after: { at?: number; name: string } | undefined;
  for (;;) {
    const page = await store.filterDevices(T, group, f, order, limit, after);
    seen.push(...page.map((d) => d.name));
    const last = page[page.length - 1];
    if (page.length < limit || !last) return seen;
    const at = order === "renewAt" ? last.renewAt : order === "notAfter" ? last.notAfter : null;
    after = at === null ? { name: last.name } : { at, name: last.name };
  }
}

for (const engine of ENGINES) {
  describe(`fleet store on ${engine.name}`, () => {
    let url: string;
    let store: SqlStore;

    beforeEach(async () => {
      url = await engine.freshUrl();
      store = await openStore(url);
      await store.insertTenant({ id: T, caCert: "c", caKeySealed: "k", createdAt: NOW });
      for (const name of GROUPS)
        await store.insertGroup({
          ...REGISTERED,
          tenantId: T,
          name,
          secretSealed: "s",
          validity: 30 * 86_400,
          grace: 7 * 86_400,
          createdAt: NOW,
          secretRotatedAt: NOW,
        });
    }, 30_000);

    afterEach(async () => {
      await store.close();
    });

    test("counters and forecast equal a recount after a random mix of every kind of write", async () => {
      const source = createPrng(engine.name === "sqlite" ? 11 : 12);
      const random = () => source.next();
      const pick = <T>(items: T[]): T => source.pick(items);
      const names = Array.from({ length: 30 }, (_, i) => `dev-${i}`);
      for (const g of GROUPS) await store.insertDevices(T, g, names, NOW);
      let now = NOW;
      for (let step = 0; step < 400; step++) {
        now += Math.floor(random() * HOUR);
        const k = key(pick(GROUPS), pick(names));
        const device = await store.getDevice(k);
        const op = Math.floor(random() * 8);
        if (!device) await store.insertDevices(T, k.group, [k.name], now);
        else if (op === 0 && device.state === "created")
          await store.recordProvisioned(k, issuance(now));
        else if (op === 1 && device.state === "provisioned" && device.serial)
          await store.recordRenewed(k, device.serial, issuance(now));
        else if (op === 2) await store.revokeDevice(k, now);
        else if (op === 3) await store.resetDevice(k, now, null);
        else if (op === 4 && random() < 0.3) await store.deleteDevice(k, now);
        else
          await store.applyReadiness([
            { tenant: T, group: k.group, device: k.name, online: random() < 0.6, at: now },
          ]);
      }
      await store.markAllOffline(T, now);
      const fromHour = Math.floor(NOW / HOUR) - 24;
      await expectCountersMatch(store, fromHour, 24 * 60);
      const devices = await allDevices(store);
      expect(devices.some((d) => d.online === false)).toBe(true);
      expect(devices.some((d) => d.online === true)).toBe(false);
      expect(devices.filter((d) => d.state === "provisioned").length).toBeGreaterThan(5);
      // Opened again, the store reads the same planned renewals (on SQLite filled anew from the devices).
      await store.close();
      store = await openStore(url);
      await expectOverdueMatch(store, devices);
    }, 60_000);

    test("concurrent provisioning, renewal, revocation and readiness keep the counters exact", async () => {
      const names = Array.from({ length: 40 }, (_, i) => `c-${i}`);
      await store.insertDevices(T, "g-a", names, NOW);
      const held: Record<string, Issuance> = {};
      await Promise.all(
        names.map(async (name) => {
          const first = issuance(NOW);
          if (await store.recordProvisioned(key("g-a", name), first)) held[name] = first;
        }),
      );
      await Promise.all(
        names.flatMap((name, i) => [
          store.applyReadiness([{ tenant: T, group: "g-a", device: name, online: true, at: NOW }]),
          i % 3 === 0
            ? store.revokeDevice(key("g-a", name), NOW + HOUR)
            : store.recordRenewed(key("g-a", name), held[name]?.serial ?? "", issuance(NOW + HOUR)),
          store.applyReadiness([
            { tenant: T, group: "g-a", device: name, online: i % 2 === 0, at: NOW + 1 },
          ]),
        ]),
      );
      await expectCountersMatch(store, Math.floor(NOW / HOUR), 24 * 40);
    }, 60_000);

    test("writes committed together, one failing and a group deleted amid them, keep the counters exact", async () => {
      const names = Array.from({ length: 20 }, (_, i) => `b-${i}`);
      await store.insertDevices(T, "g-a", names, NOW);
      await store.insertDevices(T, "g-b", names.slice(0, 5), NOW);
      // Hint: on SQLite the writes of each Promise.all are asked for in one turn and commit as one batch, in order.
      const first = await Promise.all([
        ...names.slice(0, 10).map((n) => store.recordProvisioned(key("g-a", n), issuance(NOW))),
        ...names.slice(0, 5).map((n) => store.recordProvisioned(key("g-b", n), issuance(NOW))),
        store.deleteGroup(T, "g-b", NOW),
      ]);
      expect(first.slice(0, 10).every((ok) => ok)).toBe(true);
      expect(first[15]).toBe(true);
      // Hint: on PostgreSQL each write is a transaction of its own, so the delete may commit before some of g-b's
      // provisionings, which then find no device; either way the counters below must hold.
      if (engine.name === "sqlite") expect(first.slice(10, 15).every((ok) => ok)).toBe(true);
      const second = await Promise.allSettled([
        ...names.slice(10).map((n) => store.recordProvisioned(key("g-a", n), issuance(NOW))),
        store.insertDevices(T, "no-such-group", ["q"], NOW),
        store.revokeDevice(key("g-a", "b-0"), NOW),
      ]);
      expect(second.map((r) => r.status === "fulfilled")).toEqual(second.map((_, i) => i !== 10));
      const [tally] = await store.groupTallies(T, { names: ["g-a"] });
      expect(tally?.byState).toEqual({ created: 0, provisioned: 19, revoked: 1 });
      expect(await store.groupSizes(T)).toEqual([{ group: "g-a", devices: 20 }]);
      const fromHour = Math.floor(NOW / HOUR);
      const group = await store.renewalForecast(T, "g-a", fromHour, 24 * 30);
      expect(group.reduce((a, b) => a + b, 0)).toBe(19);
      expect(await store.renewalForecast(T, undefined, fromHour, 24 * 30)).toEqual(group);
      const raw = engine.raw(url);
      try {
        const left = await raw`select (select count(*) from group_tallies where group_name = 'g-b')
          + (select count(*) from renewal_hours where group_name = 'g-b') as n`;
        expect(Number(left[0]?.n)).toBe(0);
      } finally {
        await raw.close();
      }
      // The failed write's batch ran again with savepoints: its planned renewals rolled back with it.
      await expectOverdueMatch(store, await allDevices(store));
    }, 60_000);

    test("readiness is written only when it changes; seenAt is when it last changed", async () => {
      await store.insertDevices(T, "g-a", ["a"], NOW);
      const report = (online: boolean, at: number) => ({
        tenant: T,
        group: "g-a",
        device: "a",
        online,
        at,
      });
      expect(await store.applyReadiness([report(true, NOW + 1)])).toBe(1);
      expect(await store.applyReadiness([report(true, NOW + 2)])).toBe(0);
      expect(await store.getDevice(key("g-a", "a"))).toMatchObject({
        online: true,
        seenAt: NOW + 1,
      });
      // The latest report of a batch wins; an unknown device is ignored.
      const batch = [
        report(false, NOW + 5),
        report(true, NOW + 3),
        { ...report(true, 1), device: "x" },
      ];
      expect(await store.applyReadiness(batch)).toBe(1);
      expect(await store.getDevice(key("g-a", "a"))).toMatchObject({
        online: false,
        seenAt: NOW + 5,
      });
    });

    test("filtered pages equal a plain filter of every device, in their order, across pages", async () => {
      const names = Array.from({ length: 60 }, (_, i) => `n${(i * 37) % 60}-x`);
      await store.insertDevices(T, "g-a", names, NOW);
      await store.insertDevices(T, "g-b", names.slice(0, 5), NOW);
      for (const [i, name] of names.entries()) {
        const k = key("g-a", name);
        if (i % 5 !== 0) await store.recordProvisioned(k, issuance(NOW + i * HOUR, (10 + i) * DAY));
        if (i % 7 === 0) await store.revokeDevice(k, NOW);
        if (i % 3 !== 2)
          await store.applyReadiness([
            { tenant: T, group: "g-a", device: name, online: i % 3 === 0, at: NOW },
          ]);
      }
      const devices = await allDevices(store);
      const renewals = devices.map((d) => d.renewAt ?? 0).sort((a, b) => a - b);
      const midRenewal = renewals[Math.floor(renewals.length * 0.6)] ?? 0;
      const cases: [DeviceFilter, DeviceOrder][] = [
        [{}, "name"],
        [{ state: "provisioned" }, "name"],
        [{ state: "revoked" }, "name"],
        [{ online: false }, "name"],
        [{ state: "provisioned", online: true }, "name"],
        [{ state: "created", online: true }, "name"],
        [{ prefix: "n1" }, "name"],
        [{ renewBefore: midRenewal }, "renewAt"],
        [{ renewBefore: midRenewal, online: true }, "renewAt"],
        [{ expiringBefore: NOW + 40 * DAY }, "notAfter"],
        [{ expiringBefore: NOW + 40 * DAY, renewBefore: midRenewal, prefix: "n2" }, "renewAt"],
        // Hint: on SQLite the renewal order walks renewal_keys joined to the devices; each filter on either side.
        [{ renewBefore: midRenewal, state: "provisioned" }, "renewAt"],
        [{ renewBefore: midRenewal, state: "revoked" }, "renewAt"],
        [{ renewBefore: midRenewal, online: false }, "renewAt"],
        [{ renewBefore: midRenewal, prefix: "n1" }, "renewAt"],
        [{ renewBefore: midRenewal, expiringBefore: NOW + 40 * DAY }, "renewAt"],
        [{ renewBefore: NOW + 90 * DAY, online: true, expiringBefore: NOW + 40 * DAY }, "renewAt"],
        [{ renewBefore: NOW + 90 * DAY, online: false, prefix: "n" }, "renewAt"],
        [{ expiringBefore: NOW + 90 * DAY, state: "created" }, "notAfter"],
      ];
      for (const [filter, order] of cases) {
        const want = expectedPage(devices, "g-a", filter, order);
        expect({ filter, got: await pageThrough(store, "g-a", filter, order, 7) }).toEqual({
          filter,
          got: want,
        });
        // Hint: a time filter holds provisioned devices only, so another state is an empty page by design.
        const emptyByDesign =
          filter.state === "created" || (filter.state === "revoked" && order !== "name");
        expect({ filter, found: want.length > 0 || emptyByDesign }).toEqual({
          filter,
          found: true,
        });
      }
    }, 60_000);

    test("expiring and overdue counts per group", async () => {
      await store.insertDevices(T, "g-a", ["a", "b", "c", "d"], NOW);
      await store.recordProvisioned(key("g-a", "a"), issuance(NOW - 29.5 * DAY));
      await store.recordProvisioned(key("g-a", "b"), issuance(NOW - 25 * DAY));
      await store.recordProvisioned(key("g-a", "c"), issuance(NOW));
      await store.recordProvisioned(key("g-a", "d"), issuance(NOW - 31 * DAY));
      const devices = await allDevices(store);
      const overdueBefore = NOW - HOUR;
      const due = await store.groupDue(T, NOW, overdueBefore, { names: GROUPS });
      expect(due.map((d) => d.group)).toEqual(GROUPS);
      expect(due[0]).toEqual({
        group: "g-a",
        expiringWithin24h: 1,
        expiringWithin7d: 2,
        overdue: devices.filter((d) => (d.renewAt ?? Infinity) < overdueBefore).length,
      });
      expect(due[0]?.overdue).toBeGreaterThanOrEqual(2);
      expect(due[1]).toEqual({
        group: "g-b",
        expiringWithin24h: 0,
        expiringWithin7d: 0,
        overdue: 0,
      });
      expect(await store.groupDue(T, NOW, overdueBefore, { names: ["g-b"] })).toEqual(due.slice(1));
      expect(await store.groupDue(T, NOW, overdueBefore, { after: "g-a", limit: 5 })).toEqual(
        due.slice(1),
      );
      // The tenant's counts come from the tenant-wide indexes and the summed counters.
      const fleet = await store.fleetCounts(T, NOW, overdueBefore);
      expect(fleet).toMatchObject({
        expiringWithin24h: 1,
        expiringWithin7d: 2,
        overdue: due[0]?.overdue,
        groups: 2,
        longestValidity: 30 * 86_400,
        online: 0,
        offline: 0,
      });
      expect(fleet.byState).toEqual({ created: 0, provisioned: 4, revoked: 0 });
    });

    test("history: creation, certificates and operator actions, oldest first", async () => {
      const k = key("g-a", "h");
      await store.insertDevices(T, "g-a", ["h"], NOW);
      const first = issuance(NOW + 1000);
      await store.recordProvisioned(k, first);
      const second = issuance(NOW + 2000);
      await store.recordRenewed(k, first.serial, second);
      await store.revokeDevice(k, NOW + 3000);
      await store.resetDevice(k, NOW + 4000, null);
      const third = issuance(NOW + 5000);
      await store.recordProvisioned(k, third);
      expect(await store.deviceHistory(k)).toEqual([
        { at: NOW, event: "created", serial: null },
        { at: NOW + 1000, event: "provisioned", serial: first.serial },
        { at: NOW + 2000, event: "renewed", serial: second.serial },
        { at: NOW + 3000, event: "revoked", serial: second.serial },
        { at: NOW + 4000, event: "reset", serial: second.serial },
        { at: NOW + 5000, event: "provisioned", serial: third.serial },
      ]);
      // Deleting forgets the history; a device created again under the name starts afresh.
      await store.deleteDevice(k, NOW + 6000);
      expect(await store.deviceHistory(k)).toEqual([]);
      await store.insertDevices(T, "g-a", ["h"], NOW + 7000);
      expect(await store.deviceHistory(k)).toEqual([
        { at: NOW + 7000, event: "created", serial: null },
      ]);
    });

    test("deleting a group takes its counters and its share of the tenant forecast with it", async () => {
      await store.insertDevices(T, "g-b", ["x", "y"], NOW);
      await store.insertDevices(T, "g-a", ["z"], NOW);
      for (const [g, n] of [
        ["g-b", "x"],
        ["g-b", "y"],
        ["g-a", "z"],
      ] as const)
        await store.recordProvisioned(key(g, n), issuance(NOW));
      expect(await store.deleteGroup(T, "g-b", NOW)).toBe(true);
      const forecast = await store.renewalForecast(T, undefined, Math.floor(NOW / HOUR), 24 * 30);
      expect(forecast.reduce((a, b) => a + b, 0)).toBe(1);
      expect(await store.groupTallies(T, { after: "", limit: 10 })).toHaveLength(1);
      expect(await store.groupSizes(T)).toEqual([{ group: "g-a", devices: 1 }]);
      const all = Number.MAX_SAFE_INTEGER;
      expect((await store.fleetCounts(T, NOW, all)).overdue).toBe(1);
      expect(await store.deleteDevice(key("g-a", "z"), NOW)).toBe(true);
      expect((await store.fleetCounts(T, NOW, all)).overdue).toBe(0);
      expect(await pageThrough(store, "g-a", { renewBefore: all }, "renewAt", 5)).toEqual([]);
    });

    test("migration 4 fills the planned renewal, the counters and the forecast of existing devices", async () => {
      const old = await engine.freshUrl();
      const raw = engine.raw(old);
      const cert = issuance(NOW);
      try {
        await raw.unsafe(
          "create table schema_migrations (version integer primary key, description text not null, applied_at bigint not null)",
        );
        for (const migration of MIGRATIONS.filter((m) => m.version < 4)) {
          for (const statement of migration.statements(engine.name)) await raw.unsafe(statement);
          await raw`insert into schema_migrations (version, description, applied_at) values (${migration.version}, 'old', 0)`;
        }
        await raw`insert into tenants (id, ca_cert, ca_key_sealed, created_at) values (${T}, 'c', 'k', 0)`;
        await raw`insert into device_groups (tenant_id, name, secret_sealed, validity_s, grace_s, created_at, secret_rotated_at)
          values (${T}, 'g-a', 's', 2592000, 0, 0, 0)`;
        await raw`insert into devices (tenant_id, group_name, name, state, created_at) values (${T}, 'g-a', 'new', 'created', 0)`;
        await raw`insert into devices (tenant_id, group_name, name, state, serial, not_before, not_after, first_issue, created_at)
          values (${T}, 'g-a', 'old', 'provisioned', ${cert.serial}, ${cert.notBefore}, ${cert.notAfter}, 1, 0)`;
      } finally {
        await raw.close();
      }
      const upgraded = await openStore(old);
      try {
        const planned = renewalTime(cert, DEFAULT_RENEWAL_POLICY, serialRandom(cert.serial), true);
        expect((await upgraded.getDevice(key("g-a", "old")))?.renewAt).toBe(planned);
        expect((await upgraded.groupTallies(T, { names: ["g-a"] }))[0]?.byState).toEqual({
          created: 1,
          provisioned: 1,
          revoked: 0,
        });
        const fromHour = Math.floor(planned / HOUR);
        expect(await upgraded.renewalForecast(T, undefined, fromHour, 1)).toEqual([1]);
        expect(await upgraded.renewalForecast(T, "g-a", fromHour, 1)).toEqual([1]);
        expect((await upgraded.fleetCounts(T, NOW, planned + 1)).overdue).toBe(1);
        expect((await upgraded.fleetCounts(T, NOW, planned)).overdue).toBe(0);
      } finally {
        await upgraded.close();
      }
    }, 60_000);
  });
}

test("on SQLite each filtered page walks the index that serves it", async () => {
  const store = await openStore(`sqlite:${join(tmp, "plans.db")}`);
  // Hint: renewal_keys is a table of the store's own connection, so the plans are asked of that connection.
  const sql = (store as unknown as { sql: Query }).sql;
  const explain = async (text: string, params: unknown[] = []) =>
    (await sql.unsafe(`explain query plan ${text}`, params))
      .map((r) => String(r.detail))
      .join(" | ");
  const plan = (where: string, order = "name") =>
    explain(`select * from devices where ${where} order by ${order} limit 10`);
  /** The plan of the statement the store runs for a page in `order`. */
  const pagePlan = async (filter: DeviceFilter, order: DeviceOrder, after: DeviceAfter) => {
    const asked: { text: string; params: unknown[] }[] = [];
    const recorder = Object.assign(async () => [], {
      unsafe: async (text: string, params: unknown[] = []) => {
        asked.push({ text, params });
        return [];
      },
    }) as Query;
    await filterDevices(
      recorder,
      "sqlite",
      "t",
      "g",
      filter,
      order,
      10,
      after,
      async () => undefined,
    );
    expect(asked).toHaveLength(1);
    return await explain(asked[0]?.text ?? "", asked[0]?.params);
  };
  try {
    const base = "tenant_id = 't' and group_name = 'g'";
    expect(await plan(`${base} and state = 'revoked'`)).toContain("devices_by_state");
    expect(await plan(`${base} and online = 0`)).toContain("devices_by_online");
    expect(await plan(`${base} and state || '' = 'provisioned' and online = 0`)).toContain(
      "devices_by_online",
    );
    expect(await plan(`${base} and state = 'provisioned' and online + 0 = 0`)).toContain(
      "devices_by_state",
    );
    // The overdue pages walk renewal_keys in its order and read each device by its key.
    const overdue = await pagePlan({ renewBefore: 5, online: true }, "renewAt", {
      at: 1,
      name: "a",
    });
    expect(overdue).toContain("SEARCH r USING PRIMARY KEY (tenant_id=? AND group_name=? AND");
    expect(overdue).toContain(
      "SEARCH d USING INDEX sqlite_autoindex_devices_1 (tenant_id=? AND group_name=? AND name=?)",
    );
    expect(overdue).not.toContain("TEMP B-TREE");
    const expiring = await pagePlan({ expiringBefore: 5 }, "notAfter", { at: 1, name: "a" });
    expect(expiring).toContain("devices_by_expiry");
    expect(expiring).not.toContain("TEMP B-TREE");
    // The tenant's counts: one range each, whatever the number of groups.
    expect(
      await explain("select count(*) from renewal_keys where tenant_id = 't' and renew_at < 5"),
    ).toContain("renewal_keys_tenant (tenant_id=? AND renew_at<?)");
    expect(
      await explain(
        "select count(*) from devices where tenant_id = 't' and state = 'provisioned' and not_after >= 1 and not_after < 5",
      ),
    ).toContain("devices_tenant_expiry (tenant_id=? AND not_after>? AND not_after<?)");
    // No index on the planned renewal is kept in the file: each would take every issue at a random place.
    const kept =
      await sql`select name from sqlite_master where type = 'index' and sql like '%renew_at%'`;
    expect(kept.map((r) => r.name)).toEqual(["devices_by_expiry"]);
    // Any statement on devices keeps renewal_keys in step, also those no store method runs today.
    await sql`insert into tenants (id, ca_cert, ca_key_sealed, created_at) values ('t', 'c', 'k', 0)`;
    await sql`insert into device_groups (tenant_id, name, secret_sealed, validity_s, grace_s, created_at, secret_rotated_at)
      values ('t', 'g', 's', 60, 0, 0, 0)`;
    await sql`insert into devices (tenant_id, group_name, name, state, renew_at, created_at)
      values ('t', 'g', 'a', 'provisioned', 7, 0), ('t', 'g', 'b', 'created', 8, 0)`;
    const keys = async () =>
      (await sql`select name, renew_at from renewal_keys order by name`).map(
        (r) => `${r.name}@${r.renew_at}`,
      );
    expect(await keys()).toEqual(["a@7"]);
    await sql`update devices set name = 'c', renew_at = 9 where name = 'a'`;
    expect(await keys()).toEqual(["c@9"]);
    // A REPLACE deletes the row it replaces: the delete trigger runs for it too (recursive_triggers).
    await sql`insert or replace into devices (tenant_id, group_name, name, state, renew_at, created_at)
      values ('t', 'g', 'c', 'provisioned', 11, 0)`;
    expect(await keys()).toEqual(["c@11"]);
  } finally {
    await store.close();
  }
  // A store for a command that reads no fleet status (rotate-admin-token) does not read them into memory.
  const bare = await openStore(`sqlite:${join(tmp, "plans.db")}`, { fleetReads: false });
  try {
    const sql = (bare as unknown as { sql: Query }).sql;
    expect(await sql`select name from sqlite_temp_master`).toEqual([]);
  } finally {
    await bare.close();
  }
});
