/**
 * Revocation in SQL, inside the caller's transaction: revoking certificates moves the tenant's revocation counter
 * (`crl_number`), and each CRL takes its number (`crl_serial`) under the same tenant-row lock. Also the read of a
 * certificate's standing (revoked, replaced) that the embedded broker makes.
 */

import type { CertificateStanding, CrlAllocation, DeviceKey } from "./store.ts";
import type { Query } from "./sql-driver.ts";
import { num, toCertificate, type Row } from "./rows.ts";

/** Moves the tenant's revocation counter, after the certificates (the store's lock order). */
async function bumpRevocations(tx: Query, tenantId: string): Promise<void> {
  await tx`update tenants set crl_number = crl_number + 1 where id = ${tenantId}`;
}

/** Revokes a device's unexpired certificates; returns how many, moving the revocation counter when any. */
export async function revokeDeviceCertificates(
  tx: Query,
  k: DeviceKey,
  now: number,
): Promise<number> {
  const revoked = await tx`update certificates set revoked_at = ${now}
    where tenant_id = ${k.tenantId} and group_name = ${k.group} and device = ${k.name} and revoked_at is null and not_after > ${now}
    returning serial`;
  if (revoked.length > 0) await bumpRevocations(tx, k.tenantId);
  return revoked.length;
}

/** Revokes the unexpired certificates of a whole group, moving the revocation counter when any. */
export async function revokeGroupCertificates(
  tx: Query,
  tenantId: string,
  group: string,
  now: number,
): Promise<number> {
  const revoked = await tx`update certificates set revoked_at = ${now}
    where tenant_id = ${tenantId} and group_name = ${group} and revoked_at is null and not_after > ${now} returning serial`;
  if (revoked.length > 0) await bumpRevocations(tx, tenantId);
  return revoked.length;
}

/**
 * Takes a tenant's next CRL number and reads the revocations that CRL lists (see Store.allocateCrl).
 * Hint: the update locks the tenant row, which every revoking transaction updates too; so revocations committed
 * before it are listed here, and later ones wait and go into a CRL with a greater number. The number is also
 * above `crl_number`, which versions before schema migration 3 numbered their CRLs with (and replicas not yet
 * upgraded still do).
 */
export async function allocateCrl(
  tx: Query,
  tenantId: string,
  now: number,
): Promise<CrlAllocation | undefined> {
  const [row] = await tx`update tenants
    set crl_serial = (case when crl_serial > crl_number then crl_serial else crl_number end) + 1
    where id = ${tenantId} returning crl_serial, crl_number`;
  if (!row) return undefined;
  return {
    crlNumber: num(row.crl_serial),
    revision: num(row.crl_number),
    revoked: await listRevoked(tx, tenantId, now),
  };
}

/** A tenant's revoked certificates that have not expired at `now`, oldest revocation first. */
export async function listRevoked(
  sql: Query,
  tenantId: string,
  now: number,
): Promise<{ serial: string; revokedAt: number }[]> {
  const rows = await sql`select serial, revoked_at from certificates
    where tenant_id = ${tenantId} and revoked_at is not null and not_after > ${now} order by revoked_at, serial`;
  return rows.map((r: Row) => ({ serial: String(r.serial), revokedAt: num(r.revoked_at) }));
}

/** A certificate of a device and the device's current serial (see Store.getCertificateStanding). */
export async function certificateStanding(
  sql: Query,
  k: DeviceKey,
  serial: string,
): Promise<CertificateStanding | undefined> {
  const [row] = await sql`select c.*, d.serial as current_serial from certificates c
    left join devices d on d.tenant_id = c.tenant_id and d.group_name = c.group_name and d.name = c.device
    where c.tenant_id = ${k.tenantId} and c.group_name = ${k.group} and c.device = ${k.name} and c.serial = ${serial}`;
  if (!row) return undefined;
  const current = row.current_serial;
  return {
    ...toCertificate(row),
    currentSerial: current === null || current === undefined ? null : String(current),
  };
}
