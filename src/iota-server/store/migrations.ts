/** Versioned schema migrations, written in the SQL that both SQLite and PostgreSQL run. */

import { FLEET_MIGRATION } from "./migration-fleet.ts";
import { CERTIFICATES_MIGRATION } from "./migration-certificates.ts";
import type { Query } from "./sql-driver.ts";
import { renewalKeysMigration } from "./renewal-keys.ts";

/** The SQL engines the store runs on. */
export type Dialect = "sqlite" | "postgres";

/** One schema step; `version` only grows, and an applied step is never edited. */
export interface Migration {
  version: number;
  description: string;
  /** The statements, the same on both engines except where {@link nameText} says otherwise. */
  statements(dialect: Dialect): string[];
  /** Fills new columns and tables from the existing rows, in the migration's transaction, after its statements. */
  backfill?(tx: Query): Promise<void>;
}

/**
 * The column type of group and device names. Cursor pagination and listings order by name, so the order
 * must be byte order on both engines: SQLite's default (BINARY) is; PostgreSQL's default follows the
 * database locale (en_US ignores dashes), so its name columns say `collate "C"`.
 */
export function nameText(dialect: Dialect): string {
  return dialect === "postgres" ? 'text collate "C"' : "text";
}

/** Every migration, oldest first. */
export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    description: "tenants, admin tokens, groups, devices, certificates",
    statements: (dialect) => [
      `create table tenants (
        id text primary key,
        ca_cert text not null,
        ca_key_sealed text not null,
        crl_number bigint not null default 1,
        created_at bigint not null
      )`,
      `create table admin_tokens (
        token_hash text primary key,
        tenant_id text not null references tenants(id),
        created_at bigint not null
      )`,
      `create table device_groups (
        tenant_id text not null references tenants(id),
        name ${nameText(dialect)} not null,
        secret_sealed text not null,
        validity_s bigint not null,
        grace_s bigint not null,
        created_at bigint not null,
        secret_rotated_at bigint not null,
        primary key (tenant_id, name)
      )`,
      `create table devices (
        tenant_id text not null,
        group_name ${nameText(dialect)} not null,
        name ${nameText(dialect)} not null,
        state text not null,
        serial text,
        key_hash text,
        certificate text,
        not_before bigint,
        not_after bigint,
        first_issue integer not null default 0,
        prev_serial text,
        provisioned_at bigint,
        last_renewal bigint,
        created_at bigint not null,
        primary key (tenant_id, group_name, name),
        foreign key (tenant_id, group_name) references device_groups(tenant_id, name)
      )`,
      `create table certificates (
        serial text primary key,
        tenant_id text not null,
        group_name text not null,
        device text not null,
        not_after bigint not null,
        issued_at bigint not null,
        revoked_at bigint
      )`,
      `create index certificates_device on certificates (tenant_id, group_name, device)`,
      `create index certificates_revoked on certificates (tenant_id, revoked_at)`,
    ],
  },
  {
    version: 2,
    description: "the deployment's TLS server CA; the key a reset device must prove it still holds",
    statements: () => [
      "alter table devices add column recovery_key text",
      `create table server_ca (
        id integer primary key,
        ca_cert text not null,
        ca_key_sealed text not null,
        created_at bigint not null
      )`,
    ],
  },
  {
    version: 3,
    description: "tenants.crl_serial: every signed CRL takes its number from the database",
    // Hint: CRLs were numbered with crl_number before; allocation takes the greater of the two columns plus one,
    // so the first new number is above every old one (and above those of replicas not yet upgraded).
    statements: () => [`alter table tenants add column crl_serial bigint not null default 0`],
  },
  FLEET_MIGRATION,
  {
    version: 5,
    description:
      "group enrollment: what a group's credential may create (registered or any within a pattern), its per-group window, and when a device was enrolled",
    statements: () => [
      "alter table device_groups add column enrollment text not null default 'registered'",
      "alter table device_groups add column name_pattern text",
      "alter table device_groups add column enroll_per_hour bigint",
      "alter table device_groups add column enroll_window_start bigint not null default 0",
      "alter table device_groups add column enroll_window_count bigint not null default 0",
      "alter table devices add column enrolled_at bigint",
    ],
  },
  CERTIFICATES_MIGRATION,
  {
    version: 7,
    description:
      "deleted devices' keys: a name deleted and created again must still prove the key it had, as after a reset",
    statements: (dialect) => [
      `create table device_tombstones (
        tenant_id text not null,
        group_name ${nameText(dialect)} not null,
        name ${nameText(dialect)} not null,
        recovery_key text not null,
        deleted_at bigint not null,
        primary key (tenant_id, group_name, name)
      )`,
    ],
  },
  {
    version: 8,
    description:
      "tenant_crls: each tenant's newest signed CRL, which every replica serves (and keeps for a database outage)",
    statements: () => [
      `create table tenant_crls (
        tenant_id text primary key references tenants(id),
        crl_serial bigint not null,
        revision bigint not null,
        signed_at bigint not null,
        next_update bigint not null,
        pem text not null
      )`,
    ],
  },
  {
    version: 9,
    description:
      "renewal_keys: planned renewals in renewal order, in memory on SQLite (no index at a random place per issue), a view on PostgreSQL",
    statements: renewalKeysMigration,
  },
  {
    version: 10,
    description:
      "devices.creation_key: the Idempotency-Key a device was created with, so a client that lost the answer can send the same creation again",
    statements: () => ["alter table devices add column creation_key text"],
  },
];
