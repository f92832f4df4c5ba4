/**
 * Schema migration 4, fleet operations: readiness and the renewal schedule on each device, counters per group
 * (devices by state and readiness, renewals due per hour), operator events, and the indexes the fleet summary and
 * the filtered device pages read.
 */

import { DEFAULT_RENEWAL_POLICY, renewalTime, serialRandom } from "../../core/renewal.ts";
import type { Dialect, Migration } from "./migrations.ts";
import type { Query } from "./sql-driver.ts";
import { num, type Row } from "./rows.ts";

/** Devices backfilled per UPDATE: 4 parameters each, well under SQLite's bound-parameter limit. */
const BACKFILL_CHUNK = 1000;

/** The tables and indexes of migration 4; `name` is the column type of group and device names. */
function statements(dialect: Dialect): string[] {
  const name = dialect === "postgres" ? 'text collate "C"' : "text";
  // Hint: on SQLite the counters are one B-tree each (no rowid table beside the key), so a write dirties half the pages.
  const keyed = dialect === "sqlite" ? " without rowid" : "";
  return [
    "alter table devices add column renew_at bigint",
    "alter table devices add column online integer",
    "alter table devices add column seen_at bigint",
    "alter table certificates add column kind text",
    `create table group_tallies (
      tenant_id text not null,
      group_name ${name} not null,
      state text not null,
      readiness text not null,
      n bigint not null,
      primary key (tenant_id, group_name, state, readiness)
    )${keyed}`,
    `create table renewal_hours (
      tenant_id text not null,
      group_name ${name} not null,
      hour bigint not null,
      n bigint not null,
      primary key (tenant_id, group_name, hour)
    )${keyed}`,
    `create table device_events (
      tenant_id text not null,
      group_name ${name} not null,
      device ${name} not null,
      at bigint not null,
      event text not null,
      serial text
    )`,
    "create index device_events_device on device_events (tenant_id, group_name, device, at)",
    "create index devices_by_state on devices (tenant_id, group_name, state, name)",
    // Hint: devices never seen (every new one) are not in it, so bulk creation does not touch it.
    "create index devices_by_online on devices (tenant_id, group_name, online, name) where online is not null",
    // Hint: partial, provisioned devices only (the only ones with a planned renewal that counts): smaller, and
    // provisioning inserts an entry instead of moving one.
    "create index devices_by_renewal on devices (tenant_id, group_name, renew_at, name) where state = 'provisioned'",
    "create index devices_by_expiry on devices (tenant_id, group_name, not_after, name) where state = 'provisioned'",
    // Hint: the tenant's expiring and overdue devices counted in one range, however many groups it has.
    "create index devices_tenant_renewal on devices (tenant_id, renew_at) where state = 'provisioned'",
    "create index devices_tenant_expiry on devices (tenant_id, not_after) where state = 'provisioned'",
  ];
}

/**
 * Fills what older versions did not keep: each provisioned device's planned renewal (computed as the service
 * computes it when it issues), the per-group counters, and the forecast rows. Hint: readiness starts unknown
 * (`unseen`) for every device; the brokers report it again once watched.
 */
async function backfill(tx: Query): Promise<void> {
  const rows =
    await tx`select tenant_id, group_name, name, serial, not_before, not_after, first_issue
    from devices where state = 'provisioned' and serial is not null and not_before is not null and not_after is not null`;
  for (let i = 0; i < rows.length; i += BACKFILL_CHUNK) {
    const params: unknown[] = [];
    const tuples = rows.slice(i, i + BACKFILL_CHUNK).map((row: Row) => {
      const at = renewalTime(
        { notBefore: num(row.not_before), notAfter: num(row.not_after) },
        DEFAULT_RENEWAL_POLICY,
        serialRandom(String(row.serial)),
        num(row.first_issue) === 1,
      );
      const n = params.push(row.tenant_id, row.group_name, row.name, at);
      return `(cast($${n - 3} as text), cast($${n - 2} as text), cast($${n - 1} as text), cast($${n} as bigint))`;
    });
    // Hint: both engines name the columns of a VALUES list column1, column2, ...
    await tx.unsafe(
      `update devices set renew_at = v.column4 from (values ${tuples.join(", ")}) as v
        where devices.tenant_id = v.column1 and devices.group_name = v.column2 and devices.name = v.column3`,
      params,
    );
  }
  await tx`insert into group_tallies (tenant_id, group_name, state, readiness, n)
    select tenant_id, group_name, state, 'unseen', count(*) from devices group by tenant_id, group_name, state`;
  await tx`insert into renewal_hours (tenant_id, group_name, hour, n)
    select tenant_id, group_name, renew_at / 3600000, count(*) from devices
    where state = 'provisioned' and renew_at is not null group by tenant_id, group_name, renew_at / 3600000`;
  await tx`insert into renewal_hours (tenant_id, group_name, hour, n)
    select tenant_id, '', renew_at / 3600000, count(*) from devices
    where state = 'provisioned' and renew_at is not null group by tenant_id, renew_at / 3600000`;
}

/** Migration 4. */
export const FLEET_MIGRATION: Migration = {
  version: 4,
  description:
    "fleet operations: readiness and planned renewal per device, per-group counters, renewal forecast, operator events",
  statements,
  backfill,
};
