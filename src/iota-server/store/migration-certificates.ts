/**
 * Schema migration 6: certificates keyed by their device, and only revoked certificates in the revocation index,
 * so recording an issued certificate writes one index entry beside its device's earlier ones.
 */

import type { Dialect, Migration } from "./migrations.ts";

/**
 * The statements of migration 6. Hint: keyed by the random serial, every certificate recorded landed on its own
 * page of that index (at a million certificates, a page written to the WAL per certificate); keyed by device, the
 * certificates of a provisioning run share pages as their devices' rows do. Every lookup knows the device: the
 * certificate names it in its identity URI.
 */
function statements(dialect: Dialect): string[] {
  const revoked =
    "create index certificates_revoked on certificates (tenant_id, revoked_at) where revoked_at is not null";
  if (dialect === "postgres")
    return [
      "alter table certificates drop constraint certificates_pkey",
      "alter table certificates add primary key (tenant_id, group_name, device, serial)",
      "drop index certificates_device",
      "drop index certificates_revoked",
      revoked,
    ];
  // Hint: SQLite cannot change a primary key in place; the table is copied, in key order, into its new shape.
  return [
    `create table certificates_by_device (
      tenant_id text not null,
      group_name text not null,
      device text not null,
      serial text not null,
      not_after bigint not null,
      issued_at bigint not null,
      revoked_at bigint,
      kind text,
      primary key (tenant_id, group_name, device, serial)
    ) without rowid`,
    `insert into certificates_by_device (tenant_id, group_name, device, serial, not_after, issued_at, revoked_at, kind)
      select tenant_id, group_name, device, serial, not_after, issued_at, revoked_at, kind from certificates
      order by tenant_id, group_name, device`,
    "drop table certificates",
    "alter table certificates_by_device rename to certificates",
    revoked,
  ];
}

/** Migration 6. */
export const CERTIFICATES_MIGRATION: Migration = {
  version: 6,
  description:
    "certificates keyed by device and serial; the revocation index holds revoked certificates only",
  statements,
};
