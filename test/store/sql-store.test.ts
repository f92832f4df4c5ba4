/** The store contract, run against both engines: SQLite (a file in a temp folder) and a real PostgreSQL. */

import { REGISTERED } from "../../src/core/enrollment.ts";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { openStore, type SqlStore } from "../../src/iota-server/store/sql-store.ts";
import { redactUrl } from "../../src/iota-server/store/database-url.ts";
import { MIGRATIONS } from "../../src/iota-server/store/migrations.ts";
import type { DeviceKey, Issuance } from "../../src/iota-server/store/store.ts";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.ts";

const T = "acme";
const NOW = 1_800_000_000_000; // beyond 2^31 seconds and 2^32 ms: BIGINT values must survive as numbers
const DAY = 86_400_000;

let pg: TestPostgres | undefined;
const tmp = mkdtempSync(join(tmpdir(), "iota-store-"));
let fileNo = 0;

beforeAll(async () => {
  pg = await startTestPostgres();
}, 120_000);

afterAll(async () => {
  await pg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** An engine under test: a fresh empty database URL per test, and a raw client on it. */
interface Engine {
  name: "sqlite" | "postgres";
  freshUrl(): Promise<string>;
  raw(url: string): SQL;
  /**
   * Another store on the same database, as a second replica would hold. Hint: SQLite's driver waits for
   * a lock synchronously, so two connections to one file in one process would block each other; on
   * SQLite (one process per file) the same store is shared and its single connection serialises.
   */
  peer(store: SqlStore, url: string): Promise<SqlStore>;
}

const ENGINES: Engine[] = [
  {
    name: "sqlite",
    freshUrl: async () => `sqlite:${join(tmp, `store-${fileNo++}.db`)}`,
    raw: (url) => new SQL({ adapter: "sqlite", filename: url.slice("sqlite:".length) }),
    peer: async (store) => store,
  },
  {
    name: "postgres",
    freshUrl: async () => {
      if (!pg) throw new Error("PostgreSQL did not start (see the beforeAll error above)");
      return await pg.createDatabase();
    },
    raw: (url) => new SQL(url, { max: 1 }),
    peer: async (_store, url) => await openStore(url),
  },
];

function issuance(serial: string, issuedAt = NOW, lifetime = 30 * DAY): Issuance {
  return {
    serial,
    keyHash: `key-of-${serial}`,
    certificate: `PEM ${serial}`,
    notBefore: issuedAt - 60_000,
    notAfter: issuedAt + lifetime,
    issuedAt,
  };
}

const dev = (name: string, group = "room2-lights"): DeviceKey => ({ tenantId: T, group, name });

/** Stands for a revocation among the CRL allocations a test runs at once. */
const revokedMark = { crlNumber: -1, revoked: [] as string[] };

for (const engine of ENGINES) {
  describe(`SqlStore on ${engine.name}`, () => {
    let url: string;
    let store: SqlStore;

    beforeEach(async () => {
      url = await engine.freshUrl();
      store = await openStore(url);
      expect(store.dialect).toBe(engine.name);
      expect(
        await store.insertTenant({
          id: T,
          caCert: "CA PEM",
          caKeySealed: "sealed",
          createdAt: NOW,
        }),
      ).toBe(true);
      const group = {
        tenantId: T,
        secretSealed: "s",
        validity: 30 * 86_400,
        grace: 7 * 86_400,
        createdAt: NOW,
        secretRotatedAt: NOW,
        ...REGISTERED,
      };
      expect(await store.insertGroup({ ...group, name: "room2-lights" })).toBe(true);
    }, 30_000);

    afterEach(async () => {
      await store.close();
    });

    test("tenants: insert once, read back with numbers", async () => {
      expect(
        await store.insertTenant({
          id: T,
          caCert: "other",
          caKeySealed: "other",
          createdAt: NOW + 1,
        }),
      ).toBe(false);
      const tenant = await store.getTenant(T);
      expect(tenant).toEqual({
        id: T,
        caCert: "CA PEM",
        caKeySealed: "sealed",
        crlNumber: 1,
        createdAt: NOW,
      });
      expect(await store.getTenant("nobody")).toBeUndefined();
    });

    test("a tenant and its first admin token go in together, and only for the winner", async () => {
      const tenant = { id: "second", caCert: "c", caKeySealed: "k", createdAt: NOW };
      const results = await Promise.all([
        store.insertTenant(tenant, "hash-a"),
        store.insertTenant(tenant, "hash-b"),
      ]);
      expect(results.filter(Boolean).length).toBe(1);
      const tokens = await Promise.all([
        store.tenantIdForToken("hash-a"),
        store.tenantIdForToken("hash-b"),
      ]);
      expect(tokens.filter((t) => t === "second").length).toBe(1);
      expect(tokens.filter((t) => t === undefined).length).toBe(1);
    });

    test("admin tokens map to their tenant", async () => {
      await store.insertAdminToken("hash-1", T, NOW);
      expect(await store.tenantIdForToken("hash-1")).toBe(T);
      expect(await store.tenantIdForToken("hash-2")).toBeUndefined();
      expect(store.insertAdminToken("hash-1", T, NOW)).rejects.toThrow();
    });

    test("replacing a tenant's admin tokens leaves it one, and other tenants' tokens as they were", async () => {
      await store.insertTenant({ id: "other", caCert: "c", caKeySealed: "k", createdAt: NOW });
      await store.insertAdminToken("hash-1", T, NOW);
      await store.insertAdminToken("hash-2", T, NOW);
      await store.insertAdminToken("hash-other", "other", NOW);
      expect(await store.replaceAdminTokens(T, "hash-new", NOW + 1)).toBe(2);
      expect(await store.tenantIdForToken("hash-1")).toBeUndefined();
      expect(await store.tenantIdForToken("hash-2")).toBeUndefined();
      expect(await store.tenantIdForToken("hash-new")).toBe(T);
      expect(await store.tenantIdForToken("hash-other")).toBe("other");
      expect(await store.replaceAdminTokens(T, "hash-newer", NOW + 2)).toBe(1);
      expect(await store.tenantIdForToken("hash-new")).toBeUndefined();
    });

    test("groups: insert once, get, list in byte order with device counts, rotate the secret", async () => {
      const base = {
        tenantId: T,
        secretSealed: "x",
        validity: 60,
        grace: 0,
        createdAt: NOW,
        secretRotatedAt: NOW,
        ...REGISTERED,
      };
      expect(await store.insertGroup({ ...base, name: "room2-lights" })).toBe(false);
      for (const name of ["ab", "a-c", "a-b"])
        expect(await store.insertGroup({ ...base, name })).toBe(true);
      await store.insertDevices(T, "a-c", ["d1", "d2", "d3"], NOW);
      const group = await store.getGroup(T, "room2-lights");
      expect(group).toEqual({
        tenantId: T,
        name: "room2-lights",
        secretSealed: "s",
        validity: 2_592_000,
        grace: 604_800,
        createdAt: NOW,
        secretRotatedAt: NOW,
        ...REGISTERED,
      });
      expect(await store.getGroup(T, "nope")).toBeUndefined();
      const listed = await store.listGroups(T);
      expect(listed.map((g) => g.name)).toEqual(["a-b", "a-c", "ab", "room2-lights"]);
      expect(listed.map((g) => g.deviceCount)).toEqual([0, 3, 0, 0]);
      expect(await store.countDevices(T, "a-c")).toBe(3);
      expect(await store.countDevices(T, "ab")).toBe(0);
      expect(await store.setGroupSecret(T, "ab", "rotated", NOW + 5)).toBe(true);
      expect(await store.setGroupSecret(T, "nope", "rotated", NOW + 5)).toBe(false);
      expect(await store.getGroup(T, "ab")).toMatchObject({
        secretSealed: "rotated",
        secretRotatedAt: NOW + 5,
      });
    });

    test("deleteGroup removes its devices, revokes their live certificates and bumps the CRL number", async () => {
      await store.insertDevices(T, "room2-lights", ["a", "b"], NOW);
      expect(await store.recordProvisioned(dev("a"), issuance("01"))).toBe(true);
      expect(await store.deleteGroup(T, "room2-lights", NOW + 1)).toBe(true);
      expect(await store.getGroup(T, "room2-lights")).toBeUndefined();
      expect(await store.getDevice(dev("b"))).toBeUndefined();
      expect((await store.getCertificate(dev("a"), "01"))?.revokedAt).toBe(NOW + 1);
      expect((await store.getTenant(T))?.crlNumber).toBe(2);
      expect(await store.deleteGroup(T, "room2-lights", NOW + 2)).toBe(false);
    });

    test("deleteGroup wins against a creation that commits devices while it runs", async () => {
      if (engine.name === "sqlite")
        return expect(await store.deleteGroup(T, "room2-lights", NOW)).toBe(true);
      // Hint: a raw transaction holds new devices uncommitted; deleteGroup must wait for it, then still succeed.
      const raw = engine.raw(url);
      const watcher = engine.raw(url);
      try {
        const held = Promise.withResolvers<void>();
        const release = Promise.withResolvers<void>();
        const creation = raw.begin(async (tx) => {
          await tx`insert into devices (tenant_id, group_name, name, state, created_at) values (${T}, ${"room2-lights"}, ${"late"}, ${"created"}, ${NOW})`;
          held.resolve();
          await release.promise;
        });
        await held.promise;
        const deletion = store.deleteGroup(T, "room2-lights", NOW);
        for (;;) {
          const [row] =
            await watcher`select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`;
          if (Number(row.n) > 0) break;
          await Bun.sleep(10);
        }
        release.resolve();
        await creation;
        expect(await deletion).toBe(true);
        expect(await store.getGroup(T, "room2-lights")).toBeUndefined();
        expect(await store.getDevice(dev("late"))).toBeUndefined();
      } finally {
        await raw.close();
        await watcher.close();
      }
    });

    test("insertDevices reports the new names once, in request order, across overlapping calls", async () => {
      expect(await store.insertDevices(T, "room2-lights", ["c", "a", "b", "a"], NOW)).toEqual([
        "c",
        "a",
        "b",
      ]);
      expect(await store.insertDevices(T, "room2-lights", ["b", "d", "c", "e"], NOW)).toEqual([
        "d",
        "e",
      ]);
      expect(await store.insertDevices(T, "room2-lights", [], NOW)).toEqual([]);
      expect(await store.countDevices(T, "room2-lights")).toBe(5);
    });

    test("createDevice records its key: the same key again is a replay, any other creation of the name exists", async () => {
      expect(await store.createDevice(dev("a"), NOW, "key-of-the-first-creation")).toBe("created");
      expect(await store.createDevice(dev("a"), NOW + 1, "key-of-the-first-creation")).toBe(
        "replayed",
      );
      expect(await store.createDevice(dev("a"), NOW + 1, "key-of-another-creation")).toBe("exists");
      expect(await store.insertDevices(T, "room2-lights", ["a", "b"], NOW)).toEqual(["b"]);
      expect(await store.createDevice(dev("b"), NOW, "key-of-the-first-creation")).toBe("exists");
      expect(await store.createDevice(dev("c"), NOW, undefined)).toBe("created");
      expect(await store.createDevice(dev("c"), NOW, undefined)).toBe("exists");
      expect((await store.getDevice(dev("a")))?.createdAt).toBe(NOW);
      expect(await store.groupSizes(T)).toContainEqual({ group: "room2-lights", devices: 3 });
      const [tally] = await store.groupTallies(T, { names: ["room2-lights"] });
      expect(tally?.byState.created).toBe(3);
    });

    test("createDevice with one key from two connections at once: one creates, the other replays", async () => {
      const other = await engine.peer(store, url);
      try {
        const made = await Promise.all(
          Array.from({ length: 8 }, (_, i) =>
            (i % 2 === 0 ? store : other).createDevice(dev("a"), NOW, "key-sent-many-times"),
          ),
        );
        expect(made.filter((m) => m === "created").length).toBe(1);
        expect(made.filter((m) => m === "replayed").length).toBe(7);
        const [tally] = await store.groupTallies(T, { names: ["room2-lights"] });
        expect(tally?.byState.created).toBe(1);
      } finally {
        await other.close();
      }
    });

    test("createDevice of a deleted name gives it back the key it held, as insertDevices does", async () => {
      await store.insertDevices(T, "room2-lights", ["a"], NOW);
      expect(await store.deleteDevice(dev("a"), NOW + 1, "SGVsZA==")).toBe(true);
      expect(await store.createDevice(dev("a"), NOW + 2, "key-of-the-new-creation")).toBe(
        "created",
      );
      expect((await store.getDevice(dev("a")))?.recoveryKey).toBe("SGVsZA==");
    });

    test("insertDevices beyond one INSERT chunk, and two overlapping bulk creations at once, create each device once", async () => {
      const first = Array.from({ length: 7000 }, (_, i) => `dev-${i}`);
      const second = Array.from({ length: 7000 }, (_, i) => `dev-${i + 3500}`).reverse();
      const other = await engine.peer(store, url);
      try {
        const [a, b] = await Promise.all([
          store.insertDevices(T, "room2-lights", first, NOW),
          other.insertDevices(T, "room2-lights", second, NOW),
        ]);
        const both = a.filter((n) => new Set(b).has(n));
        expect(both).toEqual([]);
        expect(new Set([...a, ...b]).size).toBe(10_500);
        expect(await store.countDevices(T, "room2-lights")).toBe(10_500);
      } finally {
        if (other !== store) await other.close();
      }
    }, 60_000);

    test("getDevice and listDevices page by name in byte order", async () => {
      const names = ["b", "a-b", "ab", "a-c", "a1", "z-9", "a"];
      await store.insertDevices(T, "room2-lights", names, NOW);
      const device = await store.getDevice(dev("ab"));
      expect(device).toEqual({
        tenantId: T,
        group: "room2-lights",
        name: "ab",
        state: "created",
        serial: null,
        keyHash: null,
        certificate: null,
        notBefore: null,
        notAfter: null,
        firstIssue: false,
        prevSerial: null,
        provisionedAt: null,
        lastRenewal: null,
        createdAt: NOW,
        recoveryKey: null,
        renewAt: null,
        online: null,
        seenAt: null,
        enrolledAt: null,
      });
      expect(await store.getDevice(dev("nope"))).toBeUndefined();
      const seen: string[] = [];
      let after: string | undefined;
      for (;;) {
        const page = await store.listDevices(T, "room2-lights", 3, after);
        seen.push(...page.map((d) => d.name));
        if (page.length < 3) break;
        after = page[page.length - 1]?.name;
      }
      expect(seen).toEqual([...names].sort());
      expect(seen).toEqual(["a", "a-b", "a-c", "a1", "ab", "b", "z-9"]);
    });

    test("deleteDevice revokes the device's live certificates; false when there is no such device", async () => {
      await store.insertDevices(T, "room2-lights", ["a"], NOW);
      await store.recordProvisioned(dev("a"), issuance("0a"));
      expect(await store.deleteDevice(dev("a"), NOW + 1)).toBe(true);
      expect(await store.getDevice(dev("a"))).toBeUndefined();
      expect((await store.getCertificate(dev("a"), "0a"))?.revokedAt).toBe(NOW + 1);
      expect((await store.getTenant(T))?.crlNumber).toBe(2);
      expect(await store.deleteDevice(dev("a"), NOW + 2)).toBe(false);
    });

    test("recordProvisioned is a compare-and-set: exactly one of many concurrent attempts wins", async () => {
      await store.insertDevices(T, "room2-lights", ["a"], NOW);
      const other = await engine.peer(store, url);
      try {
        const serials = Array.from({ length: 12 }, (_, i) => `p${i}`);
        const results = await Promise.all(
          serials.map((s, i) => (i % 2 ? other : store).recordProvisioned(dev("a"), issuance(s))),
        );
        expect(results.filter(Boolean).length).toBe(1);
        const winner = serials[results.indexOf(true)] ?? "";
        const device = await store.getDevice(dev("a"));
        expect(device).toMatchObject({
          state: "provisioned",
          serial: winner,
          keyHash: `key-of-${winner}`,
          firstIssue: true,
          provisionedAt: NOW,
          notAfter: NOW + 30 * DAY,
        });
        const stored = await Promise.all(serials.map((s) => store.getCertificate(dev("a"), s)));
        expect(stored.filter(Boolean).length).toBe(1);
        expect(await store.recordProvisioned(dev("a"), issuance("late"))).toBe(false);
        expect(await store.recordProvisioned(dev("nope"), issuance("none"))).toBe(false);
      } finally {
        if (other !== store) await other.close();
      }
    });

    test("recordRenewed is a compare-and-set on the current serial", async () => {
      await store.insertDevices(T, "room2-lights", ["a"], NOW);
      await store.recordProvisioned(dev("a"), issuance("01"));
      const renewedAt = NOW + 20 * DAY;
      const results = await Promise.all(
        ["r1", "r2", "r3", "r4"].map((s) =>
          store.recordRenewed(dev("a"), "01", issuance(s, renewedAt)),
        ),
      );
      expect(results.filter(Boolean).length).toBe(1);
      const winner = ["r1", "r2", "r3", "r4"][results.indexOf(true)];
      expect(await store.getDevice(dev("a"))).toMatchObject({
        serial: winner,
        prevSerial: "01",
        firstIssue: false,
        lastRenewal: renewedAt,
        provisionedAt: NOW,
      });
      expect(await store.recordRenewed(dev("a"), "01", issuance("again", renewedAt))).toBe(false);
      expect(await store.getCertificate(dev("a"), "again")).toBeUndefined();
    });

    test("revokeDevice marks the device, revokes its certificates once and bumps the CRL number once", async () => {
      await store.insertDevices(T, "room2-lights", ["a", "b"], NOW);
      await store.recordProvisioned(dev("a"), issuance("01"));
      await store.recordRenewed(dev("a"), "01", issuance("02", NOW + DAY));
      expect(await store.revokeDevice(dev("a"), NOW + 2 * DAY)).toBe(2);
      expect((await store.getDevice(dev("a")))?.state).toBe("revoked");
      expect((await store.getTenant(T))?.crlNumber).toBe(2);
      expect(await store.revokeDevice(dev("a"), NOW + 3 * DAY)).toBe(0);
      expect((await store.getTenant(T))?.crlNumber).toBe(2);
      expect(await store.revokeDevice(dev("b"), NOW + 3 * DAY)).toBe(0);
      expect((await store.getTenant(T))?.crlNumber).toBe(2);
    });

    test("resetDevice returns the device to created, revokes its certificates and lets it provision again", async () => {
      await store.insertDevices(T, "room2-lights", ["a"], NOW);
      await store.recordProvisioned(dev("a"), issuance("01"));
      expect(await store.resetDevice(dev("a"), NOW + 1, "S0VZ")).toBe(1);
      expect(await store.getDevice(dev("a"))).toMatchObject({
        state: "created",
        serial: null,
        keyHash: null,
        certificate: null,
        notAfter: null,
        firstIssue: false,
      });
      expect((await store.getTenant(T))?.crlNumber).toBe(2);
      expect((await store.getDevice(dev("a")))?.recoveryKey).toBe("S0VZ");
      expect(await store.recordProvisioned(dev("a"), issuance("02", NOW + 2))).toBe(true);
      expect((await store.getDevice(dev("a")))?.recoveryKey).toBeNull();
    });

    test("resetDevice records the key to prove: kept by a second reset, dropped on request", async () => {
      await store.insertDevices(T, "room2-lights", ["a"], NOW);
      await store.resetDevice(dev("a"), NOW, "Rmlyc3Q=");
      await store.resetDevice(dev("a"), NOW, undefined);
      expect((await store.getDevice(dev("a")))?.recoveryKey).toBe("Rmlyc3Q=");
      await store.resetDevice(dev("a"), NOW, null);
      expect((await store.getDevice(dev("a")))?.recoveryKey).toBeNull();
    });

    test("getCertificateStanding names the device's current serial beside the certificate", async () => {
      await store.insertDevices(T, "room2-lights", ["a"], NOW);
      await store.recordProvisioned(dev("a"), issuance("01", NOW));
      expect(await store.getCertificateStanding(dev("a"), "01")).toEqual({
        serial: "01",
        tenantId: T,
        group: "room2-lights",
        device: "a",
        notAfter: NOW + 30 * DAY,
        issuedAt: NOW,
        revokedAt: null,
        currentSerial: "01",
      });
      await store.recordRenewed(dev("a"), "01", issuance("02", NOW + DAY));
      expect((await store.getCertificateStanding(dev("a"), "01"))?.currentSerial).toBe("02");
      expect((await store.getCertificateStanding(dev("a"), "02"))?.currentSerial).toBe("02");
      expect(await store.getCertificateStanding(dev("a"), "03")).toBeUndefined();
      expect(await store.getCertificateStanding(dev("b"), "02")).toBeUndefined();
      await store.resetDevice(dev("a"), NOW + DAY, null);
      expect(await store.getCertificateStanding(dev("a"), "02")).toMatchObject({
        revokedAt: NOW + DAY,
        currentSerial: null,
      });
    });

    test("getCertificate and listRevoked: revoked and unexpired only, numbers throughout", async () => {
      await store.insertDevices(T, "room2-lights", ["short", "long"], NOW);
      await store.recordProvisioned(dev("short"), issuance("aa", NOW, 60_000));
      await store.recordProvisioned(dev("long"), issuance("bb", NOW, 30 * DAY));
      expect(await store.getCertificate(dev("long"), "bb")).toEqual({
        serial: "bb",
        tenantId: T,
        group: "room2-lights",
        device: "long",
        notAfter: NOW + 30 * DAY,
        issuedAt: NOW,
        revokedAt: null,
      });
      expect(await store.getCertificate(dev("long"), "cc")).toBeUndefined();
      await store.revokeDevice(dev("short"), NOW + 1000);
      await store.revokeDevice(dev("long"), NOW + 2000);
      expect(await store.listRevoked(T, NOW + 3000)).toEqual([
        { serial: "aa", revokedAt: NOW + 1000 },
        { serial: "bb", revokedAt: NOW + 2000 },
      ]);
      // Hint: an expired certificate needs no CRL entry; devices cannot use it anyway.
      expect(await store.listRevoked(T, NOW + 120_000)).toEqual([
        { serial: "bb", revokedAt: NOW + 2000 },
      ]);
      expect(await store.listRevoked("nobody", NOW)).toEqual([]);
    });

    test("allocateCrl: every CRL takes a greater number, with the revocations committed before it", async () => {
      await store.insertDevices(T, "room2-lights", ["a", "b"], NOW);
      await store.recordProvisioned(dev("a"), issuance("01"));
      await store.recordProvisioned(dev("b"), issuance("02"));
      const first = await store.allocateCrl(T, NOW);
      expect(first).toEqual({ crlNumber: 2, revision: 1, revoked: [] });
      await store.revokeDevice(dev("a"), NOW + 1);
      expect(await store.allocateCrl(T, NOW + 2)).toEqual({
        crlNumber: 3,
        revision: 2,
        revoked: [{ serial: "01", revokedAt: NOW + 1 }],
      });
      // No revocation in between (a re-sign at half validity): still a new number.
      expect((await store.allocateCrl(T, NOW + DAY / 2))?.crlNumber).toBe(4);
      expect(await store.allocateCrl("nobody", NOW)).toBeUndefined();
    });

    test("allocateCrl: replicas allocating at once never get the same number, and revocations keep their order", async () => {
      await store.insertDevices(T, "room2-lights", ["a", "b", "c"], NOW);
      for (const [name, serial] of [
        ["a", "0a"],
        ["b", "0b"],
        ["c", "0c"],
      ] as const)
        await store.recordProvisioned(dev(name), issuance(serial));
      const peers = [store, await engine.peer(store, url), await engine.peer(store, url)];
      try {
        const calls: Promise<{ crlNumber: number; revoked: string[] }>[] = [];
        for (let i = 0; i < 30; i++) {
          const peer = peers[i % peers.length] ?? store;
          if (i === 10) calls.push(peer.revokeDevice(dev("a"), NOW + 1).then(() => revokedMark));
          if (i === 20) calls.push(peer.revokeDevice(dev("b"), NOW + 2).then(() => revokedMark));
          calls.push(
            peer.allocateCrl(T, NOW + 3).then((a) => {
              if (!a) throw new Error("no tenant");
              return { crlNumber: a.crlNumber, revoked: a.revoked.map((r) => r.serial) };
            }),
          );
        }
        const crls = (await Promise.all(calls)).filter((c) => c !== revokedMark);
        const numbers = crls.map((c) => c.crlNumber);
        expect(new Set(numbers).size).toBe(30);
        // Ordered by number, the revocations listed only ever grow: a greater number never lists less.
        const byNumber = [...crls].sort((x, y) => x.crlNumber - y.crlNumber);
        for (let i = 1; i < byNumber.length; i++) {
          const before = byNumber[i - 1]?.revoked ?? [];
          expect(before.every((s) => byNumber[i]?.revoked.includes(s))).toBe(true);
        }
        // Hint: the allocations ran alongside the revocations, so the greatest of them may predate either;
        // one made after both committed lists both, under a still greater number.
        const after = await peers[1]?.allocateCrl(T, NOW + 3);
        expect(after?.revoked.map((r) => r.serial)).toEqual(["0a", "0b"]);
        expect(after?.crlNumber).toBeGreaterThan(byNumber.at(-1)?.crlNumber ?? 0);
      } finally {
        await Promise.all([...new Set(peers)].filter((p) => p !== store).map((p) => p.close()));
      }
    }, 60_000);

    test("saveCrl keeps the greatest number, whatever order replicas store in; crlState says what is stored", async () => {
      expect(await store.crlState("nobody")).toBeUndefined();
      expect(await store.crlState(T)).toEqual({ revision: 1, signed: undefined });
      const crl = (n: number) => ({
        crlNumber: n,
        revision: 1,
        signedAt: NOW + n,
        nextUpdate: NOW + DAY + n,
        pem: `CRL ${n}`,
      });
      const peer = await engine.peer(store, url);
      try {
        // Signed as 3 and 2 by two replicas, stored in the other order: 3 stays.
        expect(await store.saveCrl(T, crl(3))).toEqual(crl(3));
        expect(await peer.saveCrl(T, crl(2))).toEqual(crl(3));
        expect(await peer.storedCrl(T)).toEqual(crl(3));
        const stored = await Promise.all(
          [5, 4, 7, 6].map((n) => (n % 2 ? store : peer).saveCrl(T, crl(n))),
        );
        // Each answer is what was stored right after it: its own CRL, or one with a greater number.
        expect(stored.map((c, i) => c.crlNumber >= ([5, 4, 7, 6][i] ?? 0))).toEqual([
          true,
          true,
          true,
          true,
        ]);
        expect(await store.storedCrl(T)).toEqual(crl(7));
        const { pem: _pem, ...withoutText } = crl(7);
        expect((await peer.crlState(T))?.signed).toEqual(withoutText);
      } finally {
        if (peer !== store) await peer.close();
      }
    }, 60_000);

    test("migration 3: the first allocated CRL number is above the crl_number older versions numbered CRLs with", async () => {
      const old = await engine.freshUrl();
      const raw = engine.raw(old);
      try {
        // A database as the version before migration 3 left it, whose CRLs went up to number 7.
        await raw.unsafe(
          "create table schema_migrations (version integer primary key, description text not null, applied_at bigint not null)",
        );
        const first = MIGRATIONS[0];
        if (first?.version !== 1) throw new Error("migration 1 is not first");
        for (const statement of first.statements(engine.name)) await raw.unsafe(statement);
        await raw`insert into schema_migrations (version, description, applied_at) values (1, 'v1', 0)`;
        await raw`insert into tenants (id, ca_cert, ca_key_sealed, crl_number, created_at) values ('old', 'c', 'k', 7, 0)`;
      } finally {
        await raw.close();
      }
      const upgraded = await openStore(old);
      try {
        expect((await upgraded.getTenant("old"))?.crlNumber).toBe(7);
        expect((await upgraded.allocateCrl("old", NOW))?.crlNumber).toBe(8);
        // A replica not yet upgraded revokes (and numbers its CRL with crl_number, now 9): allocation goes past it.
        const raw2 = engine.raw(old);
        try {
          await raw2`update tenants set crl_number = 9 where id = 'old'`;
        } finally {
          await raw2.close();
        }
        expect((await upgraded.allocateCrl("old", NOW))?.crlNumber).toBe(10);
      } finally {
        await upgraded.close();
      }
    }, 60_000);

    test("migrate() again is a no-op, and stores opened together migrate once", async () => {
      await store.insertDevices(T, "room2-lights", ["kept"], NOW);
      await store.migrate();
      expect(await store.getDevice(dev("kept"))).toBeDefined();
      const raw = engine.raw(url);
      try {
        const rows = await raw`select version from schema_migrations order by version`;
        expect(rows.map((r: { version: unknown }) => Number(r.version))).toEqual(
          MIGRATIONS.map((m) => m.version),
        );
      } finally {
        await raw.close();
      }
      const fresh = await engine.freshUrl();
      const first = await openStore(fresh);
      const replicas = [first, await engine.peer(first, fresh), await engine.peer(first, fresh)];
      try {
        const raw2 = engine.raw(fresh);
        try {
          const [row] = await raw2`select count(*) as n from schema_migrations`;
          expect(Number(row.n)).toBe(MIGRATIONS.length);
        } finally {
          await raw2.close();
        }
        const wins = await Promise.all(
          replicas.map((r) =>
            r.insertTenant({ id: "default", caCert: "c", caKeySealed: "k", createdAt: NOW }),
          ),
        );
        expect(wins.filter(Boolean).length).toBe(1);
      } finally {
        await Promise.all([...new Set(replicas)].map((r) => r.close()));
      }
    }, 60_000);
  });
}

test("an unreachable database is named in the error, without its password", async () => {
  const url = "postgres://iota:s3cret@127.0.0.1:1/iota";
  const error = await openStore(url).then(
    () => undefined,
    (e: unknown) => e as Error,
  );
  expect(error?.message).toContain("cannot open the database postgres://iota:***@127.0.0.1:1/iota");
  expect(error?.message).not.toContain("s3cret");
  expect(redactUrl("postgresql://u:p@h/db")).toBe("postgresql://u:***@h/db");
  expect(redactUrl("postgres://u@h/db")).toBe("postgres://u@h/db");
  expect(redactUrl("sqlite:/var/lib/iota/iota.db")).toBe("sqlite:/var/lib/iota/iota.db");
  // Passwords holding "@" or "/" unencoded, and one given as a parameter, are hidden whole.
  expect(redactUrl("postgres://iota:p@ss@db:5432/iota")).toBe("postgres://iota:***@db:5432/iota");
  expect(redactUrl("postgres://iota:pa/ss@db/iota")).toBe("postgres://iota:***@db/iota");
  expect(redactUrl("postgres://db/iota?user=iota&password=s3cret")).toBe(
    "postgres://db/iota?user=iota&password=***",
  );
  expect(redactUrl("postgress://iota:s3cret@db/iota")).toBe("postgress://iota:***@db/iota");
});
