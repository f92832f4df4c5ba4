/**
 * Filtered pages of a group's devices, read from one index whatever the filter: each page walks the index
 * that yields its order and skips what does not match, so its cost stays near the page size, not the group's.
 *
 * - Time filters (`renewBefore`, `expiringBefore`) order by that time, then name: `devices_by_renewal` (on
 *   SQLite the in-memory `renewal_keys`, renewal-keys.ts) / `devices_by_expiry` hold exactly the matching devices
 *   at their start, the most urgent first.
 * - Otherwise the order is by name, walked on the index of the rarer of `state` and `online` (the counters say
 *   which), or the primary key. Hint: the other condition is written so no index can serve it (`state || ''`,
 *   `online + 0`), because SQLite's planner has no statistics of values and could otherwise walk a common value.
 */

import type { DeviceAfter, DeviceFilter, DeviceOrder, GroupTally } from "./fleet-store.ts";
import type { DeviceRecord } from "./store.ts";
import type { Query } from "./sql-driver.ts";
import type { Dialect } from "./migrations.ts";
import { toDevice } from "./rows.ts";

/** A character above every one a name may hold: `prefix` to `prefix~` spans the names starting with it. */
const AFTER_NAMES = "~";

/** SQL conditions and their parameters, numbered as they are added. */
class Conditions {
  readonly terms: string[] = [];
  readonly params: unknown[] = [];

  /** Adds `sql`, in which each `?` is the next parameter. */
  add(sql: string, ...values: unknown[]): void {
    let text = "";
    const parts = sql.split("?");
    parts.forEach((part, i) => {
      text += part;
      if (i < parts.length - 1) text += `$${this.params.push(values[i])}`;
    });
    this.terms.push(text);
  }
}

/** True when `online` is the rarer condition to walk, by the group's counters. */
function onlineIsRarer(filter: DeviceFilter, tally: GroupTally | undefined): boolean {
  if (!tally || filter.state === undefined || filter.online === undefined) return false;
  const readiness = filter.online ? tally.online : tally.offline;
  return readiness < tally.byState[filter.state];
}

/**
 * Up to `limit` devices of a group matching `filter` in `order` after `after` (see the module comment). Hint: in
 * renewal order on SQLite the page walks `renewal_keys` (r, in memory) and reads each device's row (d) by its key,
 * so the key columns are read from r, where the walk can use them (the others are d's alone). PostgreSQL walks its
 * `devices_by_renewal` index itself (through the view it would read each row twice).
 */
export async function filterDevices(
  sql: Query,
  dialect: Dialect,
  tenantId: string,
  group: string,
  filter: DeviceFilter,
  order: DeviceOrder,
  limit: number,
  after: DeviceAfter | undefined,
  tally: () => Promise<GroupTally | undefined>,
): Promise<DeviceRecord[]> {
  const byRenewal = order === "renewAt" && dialect === "sqlite";
  const key = byRenewal ? "r." : "";
  const where = new Conditions();
  where.add(`${key}tenant_id = ?`, tenantId);
  where.add(`${key}group_name = ?`, group);
  const timed = order !== "name";
  if (timed || filter.renewBefore !== undefined || filter.expiringBefore !== undefined) {
    if (filter.state !== undefined && filter.state !== "provisioned") return [];
    // Hint: renewal_keys holds provisioned devices only.
    if (!byRenewal) where.add("state = 'provisioned'");
  }
  const walkOnline = !timed && onlineIsRarer(filter, await maybe(filter, tally));
  if (!timed && filter.state !== undefined)
    where.add(walkOnline ? "state || '' = ?" : "state = ?", filter.state);
  if (filter.online !== undefined)
    where.add(
      timed || (filter.state !== undefined && !walkOnline) ? "online + 0 = ?" : "online = ?",
      filter.online ? 1 : 0,
    );
  if (filter.renewBefore !== undefined)
    where.add(order === "renewAt" ? `${key}renew_at < ?` : "renew_at + 0 < ?", filter.renewBefore);
  if (filter.expiringBefore !== undefined)
    where.add(order === "notAfter" ? "not_after < ?" : "not_after + 0 < ?", filter.expiringBefore);
  if (filter.prefix !== undefined)
    where.add(
      `${key}name >= ? and ${key}name < ?`,
      filter.prefix,
      `${filter.prefix}${AFTER_NAMES}`,
    );
  const column =
    order === "renewAt" ? `${key}renew_at` : order === "notAfter" ? "not_after" : undefined;
  if (after && column) where.add(`(${column}, ${key}name) > (?, ?)`, after.at ?? 0, after.name);
  else if (after) where.add("name > ?", after.name);
  const orderBy = column ? `${column}, ${key}name` : "name";
  const from = byRenewal
    ? "d.* from renewal_keys r join devices d on d.tenant_id = r.tenant_id and d.group_name = r.group_name and d.name = r.name"
    : "* from devices";
  const text = `select ${from} where ${where.terms.join(" and ")} order by ${orderBy} limit ${Math.trunc(limit)}`;
  return (await sql.unsafe(text, where.params)).map(toDevice);
}

/** The group's counters, read only when a filter has both `state` and `online` to choose between. */
async function maybe(
  filter: DeviceFilter,
  tally: () => Promise<GroupTally | undefined>,
): Promise<GroupTally | undefined> {
  return filter.state !== undefined && filter.online !== undefined ? await tally() : undefined;
}
