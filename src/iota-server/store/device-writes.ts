/**
 * The device transactions of the store, inside the caller's transaction: each changes the device row first, then
 * keeps the fleet counters (tally-sql.ts) in step, then revokes certificates (revocation-sql.ts), which takes the
 * tenant row last. Compare-and-set conditions decide races, as in sql-store.ts.
 */

import type { DeviceCreation, DeviceKey, Issuance } from "./store.ts";
import type { Query } from "./sql-driver.ts";
import { num, type Row } from "./rows.ts";
import { revokeDeviceCertificates, revokeGroupCertificates } from "./revocation-sql.ts";
import { counterDeltas } from "./counter-deltas.ts";
import {
  addRenewal,
  hourOf,
  moveRenewal,
  moveTally,
  plannedRenewal,
  readinessOf,
  recordEvent,
  TallyBatch,
  type Tally,
} from "./tally-sql.ts";
import type { DeviceState } from "../../core/wire.ts";

/** Rows per INSERT in bulk creation: well under SQLite's 32,766 bound parameters. */
const INSERT_CHUNK = 5000;

/** Where a device row stands in the counters. */
const tallyOf = (row: Row): Tally => ({
  state: String(row.state) as DeviceState,
  readiness: readinessOf(row.online),
});

/** Takes a provisioned device's planned renewal out of the forecast. */
async function dropRenewal(tx: Query, k: DeviceKey, row: Row): Promise<void> {
  if (row.state === "provisioned" && row.renew_at !== null && row.renew_at !== undefined)
    await addRenewal(tx, k.tenantId, k.group, hourOf(num(row.renew_at)), -1);
}

/**
 * Reads a device's row and locks it until the transaction ends. Hint: SQLite has no `select ... for update`; a
 * no-op update locks the row on PostgreSQL (SQLite's write transaction already holds the database).
 */
async function lockDevice(tx: Query, k: DeviceKey): Promise<Row | undefined> {
  const [row] = await tx`update devices set state = state
    where tenant_id = ${k.tenantId} and group_name = ${k.group} and name = ${k.name}
    returning state, online, renew_at, serial`;
  return row;
}

/**
 * How long after a creation the same Idempotency-Key is answered as that creation: long enough for any client's
 * attempts, short enough that a client reusing one key for every creation still learns "exists" of an old device.
 */
export const REPLAY_WINDOW_MS = 24 * 3600 * 1000;

/**
 * Creates one device, with the client's Idempotency-Key when it gave one. When the name is taken, the key it was
 * created with tells the same request sent again within {@link REPLAY_WINDOW_MS} (`replayed`) from another
 * creation (`exists`); without a key it is always `exists`.
 */
export async function createDeviceTx(
  tx: Query,
  k: DeviceKey,
  now: number,
  creationKey: string | undefined,
): Promise<DeviceCreation> {
  const inserted =
    await tx`insert into devices (tenant_id, group_name, name, state, created_at, creation_key)
    values (${k.tenantId}, ${k.group}, ${k.name}, 'created', ${now}, ${creationKey ?? null}) on conflict do nothing returning name`;
  if (inserted.length === 0) {
    if (creationKey === undefined) return "exists";
    const [row] = await tx`select creation_key, created_at from devices
      where tenant_id = ${k.tenantId} and group_name = ${k.group} and name = ${k.name}`;
    const same = row !== undefined && row.creation_key === creationKey;
    return same && now - num(row.created_at) <= REPLAY_WINDOW_MS ? "replayed" : "exists";
  }
  await createdTx(tx, k.tenantId, k.group, 1);
  return "created";
}

/** Inserts devices (names sorted and unique); returns the names that were new. */
export async function insertDevicesTx(
  tx: Query,
  tenantId: string,
  group: string,
  sorted: string[],
  now: number,
): Promise<Set<string>> {
  const created = new Set<string>();
  for (let i = 0; i < sorted.length; i += INSERT_CHUNK) {
    const params: unknown[] = [];
    const tuples = sorted.slice(i, i + INSERT_CHUNK).map((name) => {
      const n = params.push(tenantId, group, name, "created", now);
      return `($${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
    });
    const inserted = await tx.unsafe(
      `insert into devices (tenant_id, group_name, name, state, created_at) values ${tuples.join(", ")} on conflict do nothing returning name`,
      params,
    );
    for (const row of inserted) created.add(String(row.name));
  }
  if (created.size > 0) await createdTx(tx, tenantId, group, created.size);
  return created;
}

/** Counts `n` devices just created in the group, and gives them back the keys their names held when deleted. */
async function createdTx(tx: Query, tenantId: string, group: string, n: number): Promise<void> {
  const batch = new TallyBatch();
  batch.add(group, { state: "created", readiness: "unseen" }, n);
  await batch.apply(tx, tenantId);
  await reviveTombstones(tx, tenantId, group);
}

/**
 * A name created again after it was deleted takes back the key its device held, which it must prove to provision
 * (as after a reset): its device token may have been stolen and must not come back to life with the name.
 * Hint: the group's tombstones are few (usually none), so this is two index probes per creation.
 */
async function reviveTombstones(tx: Query, tenantId: string, group: string): Promise<void> {
  const revived = await tx`select t.name, t.recovery_key from device_tombstones t
    join devices d on d.tenant_id = t.tenant_id and d.group_name = t.group_name and d.name = t.name
    where t.tenant_id = ${tenantId} and t.group_name = ${group}`;
  for (const row of revived) {
    await tx`update devices set recovery_key = ${String(row.recovery_key)}
      where tenant_id = ${tenantId} and group_name = ${group} and name = ${String(row.name)}`;
    await tx`delete from device_tombstones
      where tenant_id = ${tenantId} and group_name = ${group} and name = ${String(row.name)}`;
  }
}

/**
 * Deletes a device and revokes its live certificates; false when it did not exist. `heldKey` (the key the device
 * held, SubjectPublicKeyInfo DER base64) is kept for the name: created again, it must prove that key.
 */
export async function deleteDeviceTx(
  tx: Query,
  k: DeviceKey,
  now: number,
  heldKey?: string,
): Promise<boolean> {
  const [row] =
    await tx`delete from devices where tenant_id = ${k.tenantId} and group_name = ${k.group} and name = ${k.name}
      returning state, online, renew_at`;
  if (row && heldKey !== undefined)
    await tx`insert into device_tombstones (tenant_id, group_name, name, recovery_key, deleted_at)
      values (${k.tenantId}, ${k.group}, ${k.name}, ${heldKey}, ${now})
      on conflict (tenant_id, group_name, name) do update set recovery_key = excluded.recovery_key, deleted_at = excluded.deleted_at`;
  if (row) {
    await dropRenewal(tx, k, row);
    const batch = new TallyBatch();
    batch.add(k.group, tallyOf(row), -1);
    await batch.apply(tx, k.tenantId);
  }
  await tx`delete from device_events where tenant_id = ${k.tenantId} and group_name = ${k.group} and device = ${k.name}`;
  await revokeDeviceCertificates(tx, k, now);
  return row !== undefined;
}

/** Deletes a group, its devices, counters and events, revoking the devices' live certificates. */
export async function deleteGroupTx(
  tx: Query,
  tenantId: string,
  group: string,
  now: number,
): Promise<boolean> {
  // Hint: the counter changes gathered so far in this transaction are written first, so the group's are deleted too.
  await counterDeltas(tx)?.flush(tx);
  await tx`delete from devices where tenant_id = ${tenantId} and group_name = ${group}`;
  const hours =
    await tx`select hour, n from renewal_hours where tenant_id = ${tenantId} and group_name = ${group} order by hour`;
  for (const row of hours) {
    if (num(row.n) === 0) continue;
    await tx`insert into renewal_hours (tenant_id, group_name, hour, n) values (${tenantId}, '', ${num(row.hour)}, ${-num(row.n)})
      on conflict (tenant_id, group_name, hour) do update set n = renewal_hours.n + excluded.n`;
  }
  await tx`delete from renewal_hours where tenant_id = ${tenantId} and group_name = ${group}`;
  await tx`delete from group_tallies where tenant_id = ${tenantId} and group_name = ${group}`;
  await tx`delete from device_events where tenant_id = ${tenantId} and group_name = ${group}`;
  // Hint: a group created again has a new secret, so no device token of the old one provisions in it.
  await tx`delete from device_tombstones where tenant_id = ${tenantId} and group_name = ${group}`;
  await revokeGroupCertificates(tx, tenantId, group, now);
  const rows =
    await tx`delete from device_groups where tenant_id = ${tenantId} and name = ${group} returning name`;
  return rows.length === 1;
}

/** Records a provisioning certificate, only if the device is still `created`. */
export async function provisionedTx(tx: Query, k: DeviceKey, i: Issuance): Promise<boolean> {
  const renewAt = i.renewAt ?? plannedRenewal(i, true);
  const [row] =
    await tx`update devices set state = 'provisioned', serial = ${i.serial}, key_hash = ${i.keyHash}, certificate = ${i.certificate},
        not_before = ${i.notBefore}, not_after = ${i.notAfter}, first_issue = 1, prev_serial = null, provisioned_at = ${i.issuedAt},
        recovery_key = null, renew_at = ${renewAt}
      where tenant_id = ${k.tenantId} and group_name = ${k.group} and name = ${k.name} and state = 'created' returning online`;
  if (!row) return false;
  await insertCertificate(tx, k, i, "provision");
  await addRenewal(tx, k.tenantId, k.group, hourOf(renewAt), 1);
  const readiness = readinessOf(row.online);
  await moveTally(
    tx,
    k.tenantId,
    k.group,
    { state: "created", readiness },
    { state: "provisioned", readiness },
  );
  return true;
}

/** Records a renewal, only if the device's current serial is still `fromSerial`. */
export async function renewedTx(
  tx: Query,
  k: DeviceKey,
  fromSerial: string,
  i: Issuance,
): Promise<boolean> {
  // Hint: a planned renewal belongs to its serial, so the one read here is the one the compare-and-set replaces.
  const [before] =
    await tx`select renew_at from devices where tenant_id = ${k.tenantId} and group_name = ${k.group} and name = ${k.name}
      and state = 'provisioned' and serial = ${fromSerial}`;
  if (!before) return false;
  const renewAt = i.renewAt ?? plannedRenewal(i, false);
  const rows =
    await tx`update devices set serial = ${i.serial}, key_hash = ${i.keyHash}, certificate = ${i.certificate},
        not_before = ${i.notBefore}, not_after = ${i.notAfter}, first_issue = 0, prev_serial = ${fromSerial}, last_renewal = ${i.issuedAt},
        renew_at = ${renewAt}
      where tenant_id = ${k.tenantId} and group_name = ${k.group} and name = ${k.name} and state = 'provisioned' and serial = ${fromSerial}
      returning name`;
  if (rows.length !== 1) return false;
  await insertCertificate(tx, k, i, "renew");
  if (before.renew_at === null || before.renew_at === undefined)
    await addRenewal(tx, k.tenantId, k.group, hourOf(renewAt), 1);
  else await moveRenewal(tx, k.tenantId, k.group, hourOf(num(before.renew_at)), hourOf(renewAt));
  return true;
}

/** Marks the device revoked and its live certificates revoked; returns the number of certificates revoked. */
export async function revokedTx(tx: Query, k: DeviceKey, now: number): Promise<number> {
  const row = await lockDevice(tx, k);
  if (row) {
    await tx`update devices set state = 'revoked' where tenant_id = ${k.tenantId} and group_name = ${k.group} and name = ${k.name}`;
    await recordEvent(tx, k, now, "revoked", row.serial === null ? null : String(row.serial));
    await dropRenewal(tx, k, row);
    const from = tallyOf(row);
    await moveTally(tx, k.tenantId, k.group, from, { ...from, state: "revoked" });
  }
  return await revokeDeviceCertificates(tx, k, now);
}

/** Back to `created`, its live certificates revoked; see Store.resetDevice for `recoveryKey`. */
export async function resetTx(
  tx: Query,
  k: DeviceKey,
  now: number,
  recoveryKey: string | null | undefined,
): Promise<number> {
  const row = await lockDevice(tx, k);
  if (row) {
    // Hint: a second reset keeps the key recorded by the first (the device still holds that one).
    const keep = recoveryKey === undefined ? 1 : 0;
    await tx`update devices set state = 'created', serial = null, key_hash = null, certificate = null, not_before = null, not_after = null,
        first_issue = 0, prev_serial = null, provisioned_at = null, renew_at = null,
        recovery_key = case when ${keep} = 1 then recovery_key else ${recoveryKey ?? null} end
      where tenant_id = ${k.tenantId} and group_name = ${k.group} and name = ${k.name}`;
    await recordEvent(tx, k, now, "reset", row.serial === null ? null : String(row.serial));
    await dropRenewal(tx, k, row);
    const from = tallyOf(row);
    await moveTally(tx, k.tenantId, k.group, from, { ...from, state: "created" });
  }
  return await revokeDeviceCertificates(tx, k, now);
}

async function insertCertificate(
  tx: Query,
  k: DeviceKey,
  i: Issuance,
  kind: "provision" | "renew",
): Promise<void> {
  await tx`insert into certificates (serial, tenant_id, group_name, device, not_after, issued_at, kind)
    values (${i.serial}, ${k.tenantId}, ${k.group}, ${k.name}, ${i.notAfter}, ${i.issuedAt}, ${kind})`;
}
