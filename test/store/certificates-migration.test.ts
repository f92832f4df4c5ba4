/**
 * Schema migration 6 on both engines: certificates recorded by older versions keep every field, are found by their
 * device and serial (and only by them), stay on the CRL when revoked, and new certificates join them.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { openStore } from "../../src/iota-server/store/sql-store.ts";
import { MIGRATIONS } from "../../src/iota-server/store/migrations.ts";
import type { DeviceKey } from "../../src/iota-server/store/store.ts";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.ts";

const T = "acme";
const NOW = 1_800_000_000_000;
const DAY = 86_400_000;

let pg: TestPostgres | undefined;
const tmp = mkdtempSync(join(tmpdir(), "iota-cert-migration-"));

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
    url: async () => `sqlite:${join(tmp, "v5.db")}`,
    raw: (url: string) => new SQL({ adapter: "sqlite", filename: url.slice("sqlite:".length) }),
  },
  {
    name: "postgres" as const,
    url: async () => {
      if (!pg) throw new Error("PostgreSQL did not start (see the beforeAll error above)");
      return await pg.createDatabase();
    },
    raw: (url: string) => new SQL(url, { max: 1 }),
  },
];

const key = (name: string): DeviceKey => ({ tenantId: T, group: "g", name });

for (const engine of ENGINES) {
  describe(`migration 6 on ${engine.name}`, () => {
    test("older certificates keep their fields, are found by device and serial, and revoked ones stay listed", async () => {
      const url = await engine.url();
      const raw = engine.raw(url);
      try {
        // A database as version 5 left it: two certificates of device a (the first revoked), one of device b.
        await raw.unsafe(
          "create table schema_migrations (version integer primary key, description text not null, applied_at bigint not null)",
        );
        for (const migration of MIGRATIONS.filter((m) => m.version < 6)) {
          for (const statement of migration.statements(engine.name)) await raw.unsafe(statement);
          await raw`insert into schema_migrations (version, description, applied_at) values (${migration.version}, 'old', 0)`;
        }
        await raw`insert into tenants (id, ca_cert, ca_key_sealed, created_at) values (${T}, 'c', 'k', 0)`;
        await raw`insert into device_groups (tenant_id, name, secret_sealed, validity_s, grace_s, created_at, secret_rotated_at)
          values (${T}, 'g', 's', 2592000, 0, 0, 0)`;
        await raw`insert into devices (tenant_id, group_name, name, state, serial, not_before, not_after, first_issue, created_at)
          values (${T}, 'g', 'a', 'provisioned', 'a2', ${NOW}, ${NOW + 30 * DAY}, 0, 0)`;
        await raw`insert into certificates (serial, tenant_id, group_name, device, not_after, issued_at, revoked_at, kind)
          values ('a1', ${T}, 'g', 'a', ${NOW + 30 * DAY}, ${NOW - DAY}, ${NOW}, 'provision'),
                 ('a2', ${T}, 'g', 'a', ${NOW + 30 * DAY}, ${NOW}, null, 'renew'),
                 ('b1', ${T}, 'g', 'b', ${NOW + 30 * DAY}, ${NOW}, null, null)`;
      } finally {
        await raw.close();
      }
      const store = await openStore(url);
      try {
        expect(await store.getCertificate(key("a"), "a1")).toEqual({
          serial: "a1",
          tenantId: T,
          group: "g",
          device: "a",
          notAfter: NOW + 30 * DAY,
          issuedAt: NOW - DAY,
          revokedAt: NOW,
        });
        expect((await store.getCertificate(key("a"), "a2"))?.revokedAt).toBeNull();
        expect((await store.getCertificate(key("b"), "b1"))?.device).toBe("b");
        // A serial is only found with the device it was issued to.
        expect(await store.getCertificate(key("b"), "a2")).toBeUndefined();
        expect(await store.listRevoked(T, NOW)).toEqual([{ serial: "a1", revokedAt: NOW }]);
        expect((await store.deviceHistory(key("a"))).map((e) => [e.event, e.serial])).toEqual([
          ["created", null],
          ["provisioned", "a1"],
          ["renewed", "a2"],
        ]);
        const renewed = {
          serial: "a3",
          keyHash: "k3",
          certificate: "PEM a3",
          notBefore: NOW + DAY,
          notAfter: NOW + 31 * DAY,
          issuedAt: NOW + DAY,
        };
        expect(await store.recordRenewed(key("a"), "a2", renewed)).toBe(true);
        expect((await store.getCertificate(key("a"), "a3"))?.issuedAt).toBe(NOW + DAY);
        expect(await store.revokeDevice(key("a"), NOW + 2 * DAY)).toBe(2);
        expect((await store.listRevoked(T, NOW + 2 * DAY)).map((r) => r.serial).sort()).toEqual([
          "a1",
          "a2",
          "a3",
        ]);
      } finally {
        await store.close();
      }
    }, 60_000);
  });
}

test("on SQLite a certificate is recorded and found by its device's key, and the CRL reads revoked ones only", async () => {
  const url = `sqlite:${join(tmp, "plans.db")}`;
  await (await openStore(url)).close();
  const raw = new SQL({ adapter: "sqlite", filename: url.slice("sqlite:".length) });
  const plan = async (query: string) =>
    (await raw.unsafe(`explain query plan ${query}`))
      .map((r: { detail: string }) => r.detail)
      .join(" | ");
  try {
    expect(
      await plan(
        "select * from certificates where tenant_id = 't' and group_name = 'g' and device = 'd' and serial = 's'",
      ),
    ).toContain("PRIMARY KEY (tenant_id=? AND group_name=? AND device=? AND serial=?)");
    expect(
      await plan(
        "select serial, revoked_at from certificates where tenant_id = 't' and revoked_at is not null and not_after > 5 order by revoked_at, serial",
      ),
    ).toContain("certificates_revoked");
    // Keyed by device, the table has no second index a new certificate must enter besides the revoked ones.
    const indexes =
      await raw`select name from sqlite_master where type = 'index' and tbl_name = 'certificates'`;
    expect(indexes.map((r: { name: string }) => r.name)).toEqual(["certificates_revoked"]);
  } finally {
    await raw.close();
  }
});
