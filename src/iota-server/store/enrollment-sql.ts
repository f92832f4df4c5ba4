/**
 * Enrollment in SQL both engines run: a device created by its group's credential takes one slot of the
 * group's hourly window, counted on the group row itself, so every replica shares one limit.
 */

import { ENROLL_WINDOW_MS, type Enrollment } from "../../core/enrollment.ts";
import type { DeviceKey, EnrollResult } from "./store.ts";
import { insertDevicesTx } from "./device-writes.ts";
import { num } from "./rows.ts";
import type { Query } from "./sql-driver.ts";

/** Thrown inside the transaction to roll the new device back when another enrollment took the last slot meanwhile. */
class NoSlot extends Error {}

/** Replaces a group's enrollment; false when there is no such group. */
export async function setEnrollmentTx(
  tx: Query,
  tenantId: string,
  name: string,
  e: Enrollment,
): Promise<boolean> {
  const rows =
    await tx`update device_groups set enrollment = ${e.enrollment}, name_pattern = ${e.namePattern},
      enroll_per_hour = ${e.enrollPerHour}
    where tenant_id = ${tenantId} and name = ${name} returning name`;
  return rows.length === 1;
}

/**
 * Creates the device, then takes a slot of its group's window in one compare-and-set update of the group
 * row: a new window when the current one is over, else one more only while the count is under the limit,
 * and only while the group still enrolls. Hint: the device row first, then the group row, the order every
 * transaction touching both keeps; on PostgreSQL concurrent enrollments queue on the group row's lock and
 * each re-checks the count the one before it left.
 */
export async function enrollDeviceTx(
  tx: Query,
  k: DeviceKey,
  now: number,
): Promise<EnrollResult | "no-slot"> {
  const windowOver = now - ENROLL_WINDOW_MS;
  // Hint: a refusal decided before anything is written needs no rollback; on SQLite (one writer) this read is
  // exact, so a refused enrollment never fails its group-commit batch. The slot update below still decides races.
  const [room] = await tx`select 1 as room from device_groups
    where tenant_id = ${k.tenantId} and name = ${k.group} and enrollment = 'any'
      and (enroll_window_start <= ${windowOver} or enroll_window_count < enroll_per_hour)`;
  if (room === undefined) {
    const [exists] = await tx`select 1 as found from devices
      where tenant_id = ${k.tenantId} and group_name = ${k.group} and name = ${k.name}`;
    return exists === undefined ? "no-slot" : { kind: "exists" };
  }
  const created = await insertDevicesTx(tx, k.tenantId, k.group, [k.name], now);
  if (!created.has(k.name)) return { kind: "exists" };
  const slot = await tx`update device_groups set
      enroll_window_count = case when enroll_window_start <= ${windowOver} then 1 else enroll_window_count + 1 end,
      enroll_window_start = case when enroll_window_start <= ${windowOver} then ${now} else enroll_window_start end
    where tenant_id = ${k.tenantId} and name = ${k.group} and enrollment = 'any'
      and (enroll_window_start <= ${windowOver} or enroll_window_count < enroll_per_hour)
    returning name`;
  if (slot.length !== 1) throw new NoSlot();
  await tx`update devices set enrolled_at = ${now}
    where tenant_id = ${k.tenantId} and group_name = ${k.group} and name = ${k.name}`;
  return { kind: "created" };
}

/** `enrollDeviceTx` in a transaction of `write`; a refusal says when the group's window has room again. */
export async function enrollDevice(
  write: <T>(fn: (tx: Query) => Promise<T>) => Promise<T>,
  read: Query,
  k: DeviceKey,
  now: number,
): Promise<EnrollResult> {
  try {
    const result = await write((tx) => enrollDeviceTx(tx, k, now));
    if (result !== "no-slot") return result;
  } catch (error) {
    if (!(error instanceof NoSlot)) throw error;
  }
  const [row] =
    await read`select enrollment, enroll_window_start from device_groups where tenant_id = ${k.tenantId} and name = ${k.group}`;
  if (row === undefined || row.enrollment !== "any") return { kind: "refused", retryAfterMs: null };
  return {
    kind: "refused",
    retryAfterMs: Math.max(1000, num(row.enroll_window_start) + ENROLL_WINDOW_MS - now),
  };
}
