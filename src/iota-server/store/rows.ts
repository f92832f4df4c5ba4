/**
 * Database rows to store records: the one place values are normalised, so both engines answer alike
 * (PostgreSQL returns BIGINT and count(*) as strings, SQLite as numbers; flags are 0/1 integers on both).
 */

import { DEFAULT_ENROLL_PER_HOUR, type Enrollment, REGISTERED } from "../../core/enrollment.ts";
import type { DeviceState } from "../../core/wire.ts";
import type {
  CertificateRecord,
  DeviceRecord,
  GroupRecord,
  ServerCaRecord,
  TenantRecord,
} from "./store.ts";

/** A row as `Bun.SQL` returns it. */
export type Row = Record<string, unknown>;

/** A number from an INTEGER, BIGINT (string on PostgreSQL) or count(*) column. */
export const num = (value: unknown): number => (typeof value === "number" ? value : Number(value));
/** {@link num} for nullable columns. */
export const numOrNull = (value: unknown): number | null =>
  value === null || value === undefined ? null : num(value);
const strOrNull = (value: unknown): string | null =>
  value === null || value === undefined ? null : String(value);

/** A `tenants` row. */
export function toTenant(row: Row): TenantRecord {
  return {
    id: String(row.id),
    caCert: String(row.ca_cert),
    caKeySealed: String(row.ca_key_sealed),
    crlNumber: num(row.crl_number),
    createdAt: num(row.created_at),
  };
}

/** The `server_ca` row. */
export function toServerCa(row: Row): ServerCaRecord {
  return {
    caCert: String(row.ca_cert),
    caKeySealed: String(row.ca_key_sealed),
    createdAt: num(row.created_at),
  };
}

/** A `device_groups` row; an enrollment of `any` without a pattern (never written) reads as `registered`. */
export function toGroup(row: Row): GroupRecord {
  const pattern = strOrNull(row.name_pattern);
  const enrollment: Enrollment =
    row.enrollment === "any" && pattern !== null
      ? {
          enrollment: "any",
          namePattern: pattern,
          enrollPerHour: numOrNull(row.enroll_per_hour) ?? DEFAULT_ENROLL_PER_HOUR,
        }
      : REGISTERED;
  return {
    ...enrollment,
    tenantId: String(row.tenant_id),
    name: String(row.name),
    secretSealed: String(row.secret_sealed),
    validity: num(row.validity_s),
    grace: num(row.grace_s),
    createdAt: num(row.created_at),
    secretRotatedAt: num(row.secret_rotated_at),
  };
}

/** A `devices` row. */
export function toDevice(row: Row): DeviceRecord {
  return {
    tenantId: String(row.tenant_id),
    group: String(row.group_name),
    name: String(row.name),
    state: String(row.state) as DeviceState,
    serial: strOrNull(row.serial),
    keyHash: strOrNull(row.key_hash),
    certificate: strOrNull(row.certificate),
    notBefore: numOrNull(row.not_before),
    notAfter: numOrNull(row.not_after),
    firstIssue: num(row.first_issue) === 1,
    prevSerial: strOrNull(row.prev_serial),
    provisionedAt: numOrNull(row.provisioned_at),
    lastRenewal: numOrNull(row.last_renewal),
    createdAt: num(row.created_at),
    recoveryKey: strOrNull(row.recovery_key),
    renewAt: numOrNull(row.renew_at),
    online: row.online === null || row.online === undefined ? null : num(row.online) === 1,
    seenAt: numOrNull(row.seen_at),
    enrolledAt: numOrNull(row.enrolled_at),
  };
}

/** A `certificates` row. */
export function toCertificate(row: Row): CertificateRecord {
  return {
    serial: String(row.serial),
    tenantId: String(row.tenant_id),
    group: String(row.group_name),
    device: String(row.device),
    notAfter: num(row.not_after),
    issuedAt: num(row.issued_at),
    revokedAt: numOrNull(row.revoked_at),
  };
}
