/**
 * Readiness in SQL: brokers report devices online and offline, often the same thing again (a retained message
 * after every reconnection), so a report costs one indexed read and writes only when it changes the device.
 */

import type { ReadinessChange } from "./fleet-store.ts";
import type { Query } from "./sql-driver.ts";
import { num } from "./rows.ts";
import { readinessOf, TallyBatch } from "./tally-sql.ts";
import type { DeviceState } from "../../core/wire.ts";

/** Attempts at one device when concurrent writers keep changing it between the read and the write. */
const ATTEMPTS = 3;

/** The last report per device, in key order (so replicas writing batches lock devices in one order). */
function latestPerDevice(changes: ReadinessChange[]): ReadinessChange[] {
  const latest = new Map<string, ReadinessChange>();
  for (const change of changes) {
    const key = `${change.tenant}\u0000${change.group}\u0000${change.device}`;
    const seen = latest.get(key);
    if (!seen || seen.at <= change.at) latest.set(key, change);
  }
  return [...latest.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, c]) => c);
}

/** Applies readiness reports inside the caller's transaction; returns how many devices changed. */
export async function applyReadinessTx(tx: Query, changes: ReadinessChange[]): Promise<number> {
  const batches = new Map<string, TallyBatch>();
  let changed = 0;
  for (const c of latestPerDevice(changes)) {
    const want = c.online ? 1 : 0;
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const [row] = await tx`select state, online from devices
        where tenant_id = ${c.tenant} and group_name = ${c.group} and name = ${c.device}`;
      if (!row || (row.online !== null && num(row.online) === want)) break;
      // Hint: compare-and-set on what was read, so the counters move from the state the device really left.
      const updated = await tx`update devices set online = ${want}, seen_at = ${c.at}
        where tenant_id = ${c.tenant} and group_name = ${c.group} and name = ${c.device}
        and state = ${row.state} and online is not distinct from ${row.online}
        returning name`;
      if (updated.length === 0) continue;
      const state = String(row.state) as DeviceState;
      const batch = batches.get(c.tenant) ?? new TallyBatch();
      batches.set(c.tenant, batch);
      batch.move(
        c.group,
        { state, readiness: readinessOf(row.online) },
        { state, readiness: c.online ? "online" : "offline" },
      );
      changed++;
      break;
    }
  }
  for (const [tenant, batch] of [...batches].sort(([a], [b]) => (a < b ? -1 : 1)))
    await batch.apply(tx, tenant);
  return changed;
}

/** Marks a tenant's online devices offline, group by group (each an `devices_by_online` range). */
export async function markAllOfflineTx(tx: Query, tenantId: string, now: number): Promise<number> {
  const groups =
    await tx`select name from device_groups where tenant_id = ${tenantId} order by name`;
  const batch = new TallyBatch();
  let changed = 0;
  for (const { name } of groups) {
    const group = String(name);
    const rows = await tx`update devices set online = 0, seen_at = ${now}
      where tenant_id = ${tenantId} and group_name = ${group} and online = 1 returning state`;
    for (const row of rows) {
      const state = String(row.state) as DeviceState;
      batch.move(group, { state, readiness: "online" }, { state, readiness: "offline" });
    }
    changed += rows.length;
  }
  await batch.apply(tx, tenantId);
  return changed;
}
