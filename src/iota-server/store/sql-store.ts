/**
 * The store: one implementation for SQLite (the embedded default, WAL) and PostgreSQL over a thin driver.
 * Queries are written in the SQL both dialects run; values are normalised at this boundary (rows.ts).
 *
 * Races between requests, and between replicas on one PostgreSQL, are decided here by the database:
 * compare-and-set updates (`where state = 'created'`, `where serial = $from`), `on conflict do nothing`,
 * and one lock order in every transaction (device rows, then certificates, then the tenant row) so
 * concurrent transactions wait for each other instead of deadlocking.
 */

import { MIGRATIONS } from "./migrations.ts";
import type { Enrollment } from "../../core/enrollment.ts";
import type {
  CertificateRecord,
  CrlAllocation,
  CrlState,
  DeviceKey,
  DeviceCreation,
  DeviceRecord,
  EnrollResult,
  GroupRecord,
  Issuance,
  ServerCaRecord,
  SignedCrl,
  Store,
  TenantRecord,
} from "./store.ts";
import { num, toCertificate, toDevice, toGroup, toServerCa, toTenant, type Row } from "./rows.ts";
import { cannotStart } from "../exit.ts";
import { databaseOpenProblem } from "./open-problem.ts";
import { postgresDriver, sqliteDriver, type Driver, type Durability } from "./sql-driver.ts";
import { SqlFleetStore } from "./sql-fleet-store.ts";
import { allocateCrl, certificateStanding, listRevoked } from "./revocation-sql.ts";
import { crlState, saveCrl, storedCrl } from "./crl-sql.ts";
import {
  deleteDeviceTx,
  deleteGroupTx,
  createDeviceTx,
  insertDevicesTx,
  provisionedTx,
  renewedTx,
  resetTx,
  revokedTx,
} from "./device-writes.ts";
import { enrollDevice, setEnrollmentTx } from "./enrollment-sql.ts";
import { SQLITE_RENEWAL_KEYS } from "./renewal-keys.ts";

/** What a store is opened for. */
export interface StoreUse {
  /**
   * False for a command beside the service that reads no fleet status (`rotate-admin-token`): on SQLite the store
   * then does not read every planned renewal into memory (renewal-keys.ts; ~2 s and 75 MB at a million devices),
   * and its overdue counts and pages are not available.
   */
  fleetReads?: boolean;
}

/** Opens the store a database URL names: `sqlite:PATH`, `sqlite::memory:` or `postgres://...`. */
export async function openStore(url: string, use: StoreUse = {}): Promise<SqlStore> {
  const dialect =
    url.startsWith("postgres://") || url.startsWith("postgresql://") ? "postgres" : "sqlite";
  let driver: Driver | undefined;
  try {
    driver = dialect === "postgres" ? postgresDriver(url) : sqliteDriver(sqliteFilename(url));
    if (dialect === "sqlite") {
      await driver.query`PRAGMA journal_mode = WAL`;
      await driver.query`PRAGMA synchronous = NORMAL`;
      await driver.query`PRAGMA busy_timeout = 5000`;
      await driver.query`PRAGMA foreign_keys = ON`;
      // Hint: an upsert, or a statement that may change several rows, keeps an undo copy of the pages it changes
      // (a statement journal) that SQLite otherwise writes to a temporary file: ~13 us of file writes per provisioning.
      await driver.query`PRAGMA temp_store = MEMORY`;
      // Hint: so a REPLACE, which deletes the row it replaces, runs the delete triggers that keep renewal_keys in
      // step (renewal-keys.ts); no trigger of the store writes a table that has triggers, so nothing recurses.
      await driver.query`PRAGMA recursive_triggers = ON`;
    }
    const store = new SqlStore(driver);
    await store.migrate();
    driver.watchAnswers?.();
    if (dialect === "sqlite" && use.fleetReads !== false)
      for (const statement of SQLITE_RENEWAL_KEYS) await driver.query.unsafe(statement);
    return store;
  } catch (error) {
    await driver?.close().catch(() => {});
    throw cannotStart(await databaseOpenProblem(url, error));
  }
}

/**
 * Throws when a newer iota-server migrated the database past the last migration this one knows. Hint: an older
 * version writes devices without the tables and counters later migrations keep in step with them, so fleet
 * counts and certificate lookups would silently go wrong.
 */
function refuseNewerSchema(applied: Set<number>): void {
  const known = Math.max(...MIGRATIONS.map((m) => m.version));
  const newest = Math.max(...applied);
  if (newest > known)
    throw new Error(
      `a newer iota-server migrated it to schema ${newest}; this version knows schema ${known} at most and would leave what the newer one added out of date. Run the newer version, or restore the backup taken before the upgrade`,
    );
}

function sqliteFilename(url: string): string {
  const filename = url.replace(/^sqlite:(\/\/)?/, "");
  return filename === "" ? ":memory:" : filename;
}

/** {@link Store} over a per-dialect {@link Driver}; the fleet reads and readiness come from {@link SqlFleetStore}. */
export class SqlStore extends SqlFleetStore implements Store {
  async migrate(): Promise<void> {
    await this.write(async (tx) => {
      // Hint: replicas starting together serialise here; the lock is released with the transaction.
      if (this.dialect === "postgres") await tx`select pg_advisory_xact_lock(7340033)`;
      await tx`create table if not exists schema_migrations (version integer primary key, description text not null, applied_at bigint not null)`;
      const applied = new Set(
        (await tx`select version from schema_migrations`).map((r: Row) => num(r.version)),
      );
      refuseNewerSchema(applied);
      for (const migration of MIGRATIONS) {
        if (applied.has(migration.version)) continue;
        for (const statement of migration.statements(this.dialect)) await tx.unsafe(statement);
        await migration.backfill?.(tx);
        await tx`insert into schema_migrations (version, description, applied_at) values (${migration.version}, ${migration.description}, ${Date.now()})`;
      }
    });
  }

  async close(): Promise<void> {
    await this.driver.close();
  }

  async answers(): Promise<void> {
    await this.sql`select 1 as one`;
  }

  /** Answers every write only once `durability` made it durable (SQLite; PostgreSQL commits durably itself). */
  useDurability(durability: Durability): void {
    this.driver.useDurability?.(durability);
  }

  async getTenant(id: string): Promise<TenantRecord | undefined> {
    const [row] = await this.sql`select * from tenants where id = ${id}`;
    return row ? toTenant(row) : undefined;
  }

  async insertTenant(
    t: Omit<TenantRecord, "crlNumber">,
    adminTokenHash?: string,
  ): Promise<boolean> {
    return await this.write(async (tx) => {
      const rows = await tx`insert into tenants (id, ca_cert, ca_key_sealed, created_at)
        values (${t.id}, ${t.caCert}, ${t.caKeySealed}, ${t.createdAt}) on conflict do nothing returning id`;
      if (rows.length !== 1) return false;
      if (adminTokenHash !== undefined) {
        await tx`insert into admin_tokens (token_hash, tenant_id, created_at) values (${adminTokenHash}, ${t.id}, ${t.createdAt})`;
      }
      return true;
    });
  }

  async insertAdminToken(tokenHash: string, tenantId: string, now: number): Promise<void> {
    await this
      .sql`insert into admin_tokens (token_hash, tenant_id, created_at) values (${tokenHash}, ${tenantId}, ${now})`;
  }

  async replaceAdminTokens(tenantId: string, tokenHash: string, now: number): Promise<number> {
    return await this.write(async (tx) => {
      const removed =
        await tx`delete from admin_tokens where tenant_id = ${tenantId} returning token_hash`;
      await tx`insert into admin_tokens (token_hash, tenant_id, created_at) values (${tokenHash}, ${tenantId}, ${now})`;
      return removed.length;
    });
  }

  async tenantIdForToken(tokenHash: string): Promise<string | undefined> {
    const [row] = await this
      .sql`select tenant_id from admin_tokens where token_hash = ${tokenHash}`;
    return row ? String(row.tenant_id) : undefined;
  }

  async getServerCa(): Promise<ServerCaRecord | undefined> {
    const [row] = await this.sql`select * from server_ca where id = 1`;
    return row ? toServerCa(row) : undefined;
  }

  async insertServerCa(ca: ServerCaRecord): Promise<boolean> {
    const rows = await this.sql`insert into server_ca (id, ca_cert, ca_key_sealed, created_at)
      values (1, ${ca.caCert}, ${ca.caKeySealed}, ${ca.createdAt}) on conflict do nothing returning id`;
    return rows.length === 1;
  }

  async insertGroup(g: GroupRecord): Promise<boolean> {
    const rows = await this
      .sql`insert into device_groups (tenant_id, name, secret_sealed, validity_s, grace_s, created_at, secret_rotated_at,
        enrollment, name_pattern, enroll_per_hour)
      values (${g.tenantId}, ${g.name}, ${g.secretSealed}, ${g.validity}, ${g.grace}, ${g.createdAt}, ${g.secretRotatedAt},
        ${g.enrollment}, ${g.namePattern}, ${g.enrollPerHour})
      on conflict do nothing returning name`;
    return rows.length === 1;
  }

  async getGroup(tenantId: string, name: string): Promise<GroupRecord | undefined> {
    const [row] = await this
      .sql`select * from device_groups where tenant_id = ${tenantId} and name = ${name}`;
    return row ? toGroup(row) : undefined;
  }

  async listGroups(tenantId: string): Promise<(GroupRecord & { deviceCount: number })[]> {
    const rows = await this
      .sql`select g.*, (select coalesce(sum(t.n), 0) from group_tallies t where t.tenant_id = g.tenant_id and t.group_name = g.name) as device_count
      from device_groups g where g.tenant_id = ${tenantId} order by g.name`;
    return rows.map((row: Row) => ({ ...toGroup(row), deviceCount: num(row.device_count) }));
  }

  async countDevices(tenantId: string, group: string): Promise<number> {
    const [row] = await this
      .sql`select coalesce(sum(n), 0) as n from group_tallies where tenant_id = ${tenantId} and group_name = ${group}`;
    return num(row?.n ?? 0);
  }

  async deleteGroup(tenantId: string, name: string, now: number): Promise<boolean> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.write((tx) => deleteGroupTx(tx, tenantId, name, now));
      } catch (error) {
        // Hint: on PostgreSQL a concurrent creation can commit devices after ours were deleted; deleting the
        // group then breaks their foreign key (23503). Run again: the newcomers are deleted with the group.
        if (attempt < 3 && (error as { errno?: unknown }).errno === "23503") continue;
        throw error;
      }
    }
  }

  async setGroupSecret(
    tenantId: string,
    name: string,
    secretSealed: string,
    now: number,
  ): Promise<boolean> {
    const rows = await this
      .sql`update device_groups set secret_sealed = ${secretSealed}, secret_rotated_at = ${now}
      where tenant_id = ${tenantId} and name = ${name} returning name`;
    return rows.length === 1;
  }

  async setGroupEnrollment(tenantId: string, name: string, e: Enrollment): Promise<boolean> {
    return await this.write((tx) => setEnrollmentTx(tx, tenantId, name, e));
  }

  async enrollDevice(k: DeviceKey, now: number): Promise<EnrollResult> {
    return await enrollDevice((fn) => this.write(fn), this.sql, k, now);
  }

  async insertDevices(
    tenantId: string,
    group: string,
    names: string[],
    now: number,
  ): Promise<string[]> {
    // Hint: sorted, so two overlapping bulk creations lock their common rows in the same order and one
    // waits for the other (then skips what it inserted) instead of deadlocking.
    const unique = [...new Set(names)];
    const sorted = [...unique].sort();
    if (sorted.length === 0) return [];
    const created = await this.write((tx) => insertDevicesTx(tx, tenantId, group, sorted, now));
    return unique.filter((name) => created.has(name));
  }

  async createDevice(
    k: DeviceKey,
    now: number,
    creationKey: string | undefined,
  ): Promise<DeviceCreation> {
    return await this.write((tx) => createDeviceTx(tx, k, now, creationKey));
  }

  async getDevice(k: DeviceKey): Promise<DeviceRecord | undefined> {
    const [row] = await this
      .sql`select * from devices where tenant_id = ${k.tenantId} and group_name = ${k.group} and name = ${k.name}`;
    return row ? toDevice(row) : undefined;
  }

  async listDevices(
    tenantId: string,
    group: string,
    limit: number,
    after?: string,
  ): Promise<DeviceRecord[]> {
    const rows = await this
      .sql`select * from devices where tenant_id = ${tenantId} and group_name = ${group}
      and name > ${after ?? ""} order by name limit ${limit}`;
    return rows.map(toDevice);
  }

  async deleteDevice(k: DeviceKey, now: number, heldKey?: string): Promise<boolean> {
    return await this.write((tx) => deleteDeviceTx(tx, k, now, heldKey));
  }

  async recordProvisioned(k: DeviceKey, i: Issuance): Promise<boolean> {
    return await this.write((tx) => provisionedTx(tx, k, i));
  }

  async recordRenewed(k: DeviceKey, fromSerial: string, i: Issuance): Promise<boolean> {
    return await this.write((tx) => renewedTx(tx, k, fromSerial, i));
  }

  async revokeDevice(k: DeviceKey, now: number): Promise<number> {
    return await this.write((tx) => revokedTx(tx, k, now));
  }

  async resetDevice(
    k: DeviceKey,
    now: number,
    recoveryKey: string | null | undefined,
  ): Promise<number> {
    return await this.write((tx) => resetTx(tx, k, now, recoveryKey));
  }

  async getCertificate(k: DeviceKey, serial: string): Promise<CertificateRecord | undefined> {
    const [row] = await this.sql`select * from certificates
      where tenant_id = ${k.tenantId} and group_name = ${k.group} and device = ${k.name} and serial = ${serial}`;
    return row ? toCertificate(row) : undefined;
  }

  async getCertificateStanding(k: DeviceKey, serial: string) {
    return await certificateStanding(this.sql, k, serial);
  }

  async listRevoked(
    tenantId: string,
    now: number,
  ): Promise<{ serial: string; revokedAt: number }[]> {
    return await listRevoked(this.sql, tenantId, now);
  }

  async allocateCrl(tenantId: string, now: number): Promise<CrlAllocation | undefined> {
    return await this.write((tx) => allocateCrl(tx, tenantId, now));
  }

  async crlState(tenantId: string): Promise<CrlState | undefined> {
    return await crlState(this.sql, tenantId);
  }

  async storedCrl(tenantId: string): Promise<SignedCrl | undefined> {
    return await storedCrl(this.sql, tenantId);
  }

  async saveCrl(tenantId: string, crl: SignedCrl): Promise<SignedCrl> {
    return await this.write((tx) => saveCrl(tx, tenantId, crl));
  }
}
