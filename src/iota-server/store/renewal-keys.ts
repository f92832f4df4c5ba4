/**
 * `renewal_keys`: the planned renewal of every provisioned device, in the order the overdue counts and the
 * overdue pages read it (by group, and tenant-wide).
 *
 * - On PostgreSQL a view over `devices`, served by its partial indexes `devices_by_renewal` and
 *   `devices_tenant_renewal`.
 * - On SQLite a table of the connection's own in-memory database, filled from `devices` when the store opens and
 *   kept in step by temporary triggers on every insert, delete (a REPLACE's too: `recursive_triggers`) and change of
 *   a device's key, state or planned renewal, in the same transaction (a rolled-back write rolls it back too). Hint: a planned renewal is random by design
 *   (it spreads the fleet's renewals), so an index on it takes each provisioning and renewal at a random place:
 *   two more WAL pages written, synced and copied again by the checkpoint per device, ~10 us of the service's
 *   one JavaScript thread in every provisioning (BENCHMARKS.md). In memory it costs the B-tree insert alone.
 *   Nothing durable lives there: `devices.renew_at` is the record, and one SQLite file has one iota-server (the
 *   data folder's lock), so no other connection changes a device behind these triggers.
 */

import type { Dialect } from "./migrations.ts";

/** Migration 9's statements: the two persistent renewal indexes leave SQLite; PostgreSQL gets the view. */
export function renewalKeysMigration(dialect: Dialect): string[] {
  if (dialect === "postgres")
    return [
      `create view renewal_keys as select tenant_id, group_name, renew_at, name from devices
        where state = 'provisioned' and renew_at is not null`,
    ];
  return [
    "drop index devices_by_renewal",
    "drop index devices_tenant_renewal",
    // Hint: the fill at each start reads this index alone (the devices' rows hold their certificates).
    "drop index devices_by_expiry",
    "create index devices_by_expiry on devices (tenant_id, group_name, not_after, name, renew_at) where state = 'provisioned'",
  ];
}

/** A device that has a planned renewal that counts, as the row `r` of a trigger (`old` or `new`). */
const counts = (r: string) => `${r}.state = 'provisioned' and ${r}.renew_at is not null`;

const insertKey = (r: string) =>
  `insert into renewal_keys (tenant_id, group_name, renew_at, name)
    select ${r}.tenant_id, ${r}.group_name, ${r}.renew_at, ${r}.name where ${counts(r)};`;

const deleteKey = (r: string) =>
  `delete from renewal_keys where ${counts(r)} and tenant_id = ${r}.tenant_id and group_name = ${r}.group_name
    and renew_at = ${r}.renew_at and name = ${r}.name;`;

/** The statements that set up `renewal_keys` on a SQLite connection, after its migrations. */
export const SQLITE_RENEWAL_KEYS: readonly string[] = [
  `create temp table renewal_keys (
    tenant_id text not null,
    group_name text not null,
    renew_at integer not null,
    name text not null,
    primary key (tenant_id, group_name, renew_at, name)
  ) without rowid`,
  "create index temp.renewal_keys_tenant on renewal_keys (tenant_id, renew_at)",
  `create temp trigger renewal_keys_insert after insert on main.devices begin ${insertKey("new")} end`,
  `create temp trigger renewal_keys_delete after delete on main.devices begin ${deleteKey("old")} end`,
  `create temp trigger renewal_keys_update after update of tenant_id, group_name, name, state, renew_at on main.devices
    begin ${deleteKey("old")} ${insertKey("new")} end`,
  `insert into renewal_keys (tenant_id, group_name, renew_at, name)
    select tenant_id, group_name, renew_at, name from main.devices where state = 'provisioned' and renew_at is not null`,
];
