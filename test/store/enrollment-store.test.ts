/** Group enrollment in the store, on SQLite and a real PostgreSQL: settings read back as numbers, one hourly limit shared by replicas. */

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { REGISTERED } from "../../src/core/enrollment.ts";
import { openStore, type SqlStore } from "../../src/iota-server/store/sql-store.ts";
import type { DeviceKey } from "../../src/iota-server/store/store.ts";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.ts";

const T = "acme";
const NOW = 1_800_000_000_000;
const HOUR = 3600_000;
const tmp = mkdtempSync(join(tmpdir(), "iota-enroll-store-"));
let pg: TestPostgres | undefined;
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
    name: "sqlite",
    freshUrl: async () => `sqlite:${join(tmp, `store-${fileNo++}.db`)}`,
    raw: (url: string) => new SQL({ adapter: "sqlite", filename: url.slice("sqlite:".length) }),
    // Hint: one SQLite file belongs to one process; its single connection is the "replica".
    peer: async (store: SqlStore) => store,
  },
  {
    name: "postgres",
    freshUrl: async () => {
      if (!pg) throw new Error("PostgreSQL did not start (see the beforeAll error above)");
      return await pg.createDatabase();
    },
    raw: (url: string) => new SQL(url, { max: 1 }),
    peer: async (_store: SqlStore, url: string) => await openStore(url),
  },
];

const dev = (name: string, group = "line-7"): DeviceKey => ({ tenantId: T, group, name });

for (const engine of ENGINES) {
  describe(`enrollment on ${engine.name}`, () => {
    let url: string;
    let store: SqlStore;

    beforeEach(async () => {
      url = await engine.freshUrl();
      store = await openStore(url);
      await store.insertTenant({ id: T, caCert: "c", caKeySealed: "k", createdAt: NOW });
      const base = { tenantId: T, secretSealed: "s", validity: 60, grace: 0, createdAt: NOW };
      await store.insertGroup({ ...base, secretRotatedAt: NOW, name: "line-7", ...REGISTERED });
      await store.insertGroup({
        ...base,
        secretRotatedAt: NOW,
        name: "open",
        enrollment: "any",
        namePattern: "dev-*",
        enrollPerHour: 3,
      });
    });

    test("a group's enrollment is stored and read back (numbers, not strings); registered by default", async () => {
      expect(await store.getGroup(T, "line-7")).toMatchObject(REGISTERED);
      expect(await store.getGroup(T, "open")).toMatchObject({
        enrollment: "any",
        namePattern: "dev-*",
        enrollPerHour: 3,
      });
      const any = { enrollment: "any", namePattern: "gw-?", enrollPerHour: 5_000 } as const;
      expect(await store.setGroupEnrollment(T, "line-7", any)).toBe(true);
      expect(await store.getGroup(T, "line-7")).toMatchObject(any);
      expect((await store.listGroups(T)).map((g) => g.enrollPerHour)).toEqual([5_000, 3]);
      expect(await store.setGroupEnrollment(T, "line-7", REGISTERED)).toBe(true);
      expect(await store.getGroup(T, "line-7")).toMatchObject(REGISTERED);
      expect(await store.setGroupEnrollment(T, "nope", REGISTERED)).toBe(false);
    });

    test("a group written by an older version (no enrollment columns set) is registered", async () => {
      const raw = engine.raw(url);
      try {
        await raw`insert into device_groups (tenant_id, name, secret_sealed, validity_s, grace_s, created_at, secret_rotated_at)
          values (${T}, ${"old"}, ${"s"}, ${60}, ${0}, ${NOW}, ${NOW})`;
      } finally {
        await raw.close();
      }
      expect(await store.getGroup(T, "old")).toMatchObject(REGISTERED);
    });

    test("enrollDevice creates once, marks the device enrolled, and refuses for a registered group", async () => {
      expect(await store.enrollDevice(dev("dev-1", "open"), NOW)).toEqual({ kind: "created" });
      expect(await store.getDevice(dev("dev-1", "open"))).toMatchObject({
        state: "created",
        enrolledAt: NOW,
        createdAt: NOW,
      });
      expect(await store.enrollDevice(dev("dev-1", "open"), NOW + 1)).toEqual({ kind: "exists" });
      expect(await store.enrollDevice(dev("dev-1"), NOW)).toEqual({
        kind: "refused",
        retryAfterMs: null,
      });
      expect(await store.getDevice(dev("dev-1"))).toBeUndefined();
      await store.insertDevices(T, "open", ["pre"], NOW);
      expect((await store.getDevice(dev("pre", "open")))?.enrolledAt).toBeNull();
    });

    test("the hourly limit holds across replicas enrolling at once; a new hour has room again", async () => {
      const other = await engine.peer(store, url);
      try {
        const names = Array.from({ length: 12 }, (_, i) => `dev-${i}`);
        const results = await Promise.all(
          names.map((n, i) => (i % 2 ? other : store).enrollDevice(dev(n, "open"), NOW + i)),
        );
        expect(results.filter((r) => r.kind === "created").length).toBe(3);
        const refused = results.filter((r) => r.kind === "refused");
        expect(refused.length).toBe(9);
        for (const r of refused)
          if (r.kind === "refused") {
            expect(r.retryAfterMs).toBeGreaterThan(HOUR - 60_000);
            expect(r.retryAfterMs).toBeLessThanOrEqual(HOUR + names.length);
          }
        // A refused enrollment leaves no device behind.
        expect(await store.countDevices(T, "open")).toBe(3);
        expect(await store.enrollDevice(dev("dev-late", "open"), NOW + HOUR - 1)).toMatchObject({
          kind: "refused",
        });
        expect(await store.enrollDevice(dev("dev-late", "open"), NOW + HOUR + 20)).toEqual({
          kind: "created",
        });
        expect(await store.countDevices(T, "open")).toBe(4);
      } finally {
        if (other !== store) await other.close();
      }
    }, 30_000);
  });
}
