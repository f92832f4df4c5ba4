/**
 * The fleet reads: counters per group, range counts and the renewal forecast, each answered from the counters
 * (tally-sql.ts) or a range of an index, so their cost follows the groups asked for and the devices counted,
 * never the size of the fleet.
 */

import type { DeviceState } from "../../core/wire.ts";
import type { FleetCounts, GroupDue, GroupSelection, GroupTally } from "./fleet-store.ts";
import type { Query } from "./sql-driver.ts";
import { num, type Row } from "./rows.ts";

const DAY_MS = 86_400_000;

/** Adds a counter row (state, readiness, n) to a tally. */
function count(tally: Omit<GroupTally, "group" | "validity">, row: Row): void {
  if (row.state === null || row.state === undefined) return;
  const n = num(row.n);
  const state = String(row.state) as DeviceState;
  tally.byState[state] += n;
  if (state !== "provisioned") return;
  if (row.readiness === "online") tally.online += n;
  else if (row.readiness === "offline") tally.offline += n;
}

/** `$n` placeholders for `values`, numbered after `first - 1` parameters. */
const list = (values: unknown[], first: number) => values.map((_, i) => `$${first + i}`).join(", ");

/** Counters of the selected groups (groups without devices included), in name order. */
export async function groupTallies(
  sql: Query,
  tenantId: string,
  select: GroupSelection,
): Promise<GroupTally[]> {
  let rows: Row[];
  if ("names" in select) {
    if (select.names.length === 0) return [];
    rows = await sql.unsafe(
      `select g.name, g.validity_s, t.state, t.readiness, t.n from device_groups g
        left join group_tallies t on t.tenant_id = g.tenant_id and t.group_name = g.name
        where g.tenant_id = $1 and g.name in (${list(select.names, 2)}) order by g.name`,
      [tenantId, ...select.names],
    );
  } else {
    // Hint: a tagged template, so the page's statement is prepared once (PostgreSQL plans it once too).
    rows = await sql`select g.name, g.validity_s, t.state, t.readiness, t.n
      from (select tenant_id, name, validity_s from device_groups where tenant_id = ${tenantId} and name > ${select.after}
            order by name limit ${select.limit}) g
      left join group_tallies t on t.tenant_id = g.tenant_id and t.group_name = g.name order by g.name`;
  }
  const tallies = new Map<string, GroupTally>();
  for (const row of rows) {
    const name = String(row.name);
    let tally = tallies.get(name);
    if (!tally) {
      tally = {
        group: name,
        validity: num(row.validity_s),
        byState: { created: 0, provisioned: 0, revoked: 0 },
        online: 0,
        offline: 0,
      };
      tallies.set(name, tally);
    }
    count(tally, row);
  }
  return [...tallies.values()];
}

/** The three range counts of one group `g` (a row of device_groups), as SQL select-list items. */
const DUE_COUNTS = (now: string, day: string, week: string, overdue: string) => `
  (select count(*) from devices d where d.tenant_id = g.tenant_id and d.group_name = g.name and d.state = 'provisioned'
    and d.not_after >= ${now} and d.not_after < ${day}) as e1,
  (select count(*) from devices d where d.tenant_id = g.tenant_id and d.group_name = g.name and d.state = 'provisioned'
    and d.not_after >= ${now} and d.not_after < ${week}) as e7,
  (select count(*) from renewal_keys r where r.tenant_id = g.tenant_id and r.group_name = g.name
    and r.renew_at < ${overdue}) as overdue`;

/**
 * Expiring and overdue counts of the selected groups. Hint: one correlated count per group and range, each a
 * range of the `devices_by_expiry` index or of `renewal_keys` (renewal-keys.ts), so the cost is the groups plus
 * the devices counted.
 */
export async function groupDue(
  sql: Query,
  tenantId: string,
  now: number,
  overdueBefore: number,
  select: GroupSelection,
): Promise<GroupDue[]> {
  let rows: Row[];
  const day = now + DAY_MS;
  const week = now + 7 * DAY_MS;
  if ("names" in select) {
    if (select.names.length === 0) return [];
    rows = await sql.unsafe(
      `select g.name, ${DUE_COUNTS("$2", "$3", "$4", "$5")}
      from device_groups g where g.tenant_id = $1 and g.name in (${list(select.names, 6)}) order by g.name`,
      [tenantId, now, day, week, overdueBefore, ...select.names],
    );
  } else {
    // Hint: DUE_COUNTS written out as a tagged template, so the page's statement is prepared once (SQLite's text
    // statements are prepared anew each time); keep the two in step.
    rows = await sql`select g.name,
        (select count(*) from devices d where d.tenant_id = g.tenant_id and d.group_name = g.name and d.state = 'provisioned'
          and d.not_after >= ${now} and d.not_after < ${day}) as e1,
        (select count(*) from devices d where d.tenant_id = g.tenant_id and d.group_name = g.name and d.state = 'provisioned'
          and d.not_after >= ${now} and d.not_after < ${week}) as e7,
        (select count(*) from renewal_keys r where r.tenant_id = g.tenant_id and r.group_name = g.name
          and r.renew_at < ${overdueBefore}) as overdue
      from (select tenant_id, name from device_groups where tenant_id = ${tenantId} and name > ${select.after}
            order by name limit ${select.limit}) g
      order by g.name`;
  }
  return rows.map((row: Row) => ({
    group: String(row.name),
    expiringWithin24h: num(row.e1),
    expiringWithin7d: num(row.e7),
    overdue: num(row.overdue),
  }));
}

/**
 * The whole tenant's counts: the counters summed in SQL, and the expiring and overdue devices counted on the
 * tenant-wide index `devices_tenant_expiry` and the tenant-wide order of `renewal_keys`, whatever the number of
 * groups.
 */
export async function fleetCounts(
  sql: Query,
  tenantId: string,
  now: number,
  overdueBefore: number,
): Promise<FleetCounts> {
  const rows = await sql`select state, readiness, sum(n) as n from group_tallies
    where tenant_id = ${tenantId} group by state, readiness`;
  const counts: FleetCounts = {
    byState: { created: 0, provisioned: 0, revoked: 0 },
    online: 0,
    offline: 0,
    expiringWithin24h: 0,
    expiringWithin7d: 0,
    overdue: 0,
    groups: 0,
    longestValidity: 0,
  };
  for (const row of rows) count(counts, row);
  const [due] = await sql`select
    (select count(*) from devices where tenant_id = ${tenantId} and state = 'provisioned'
      and not_after >= ${now} and not_after < ${now + DAY_MS}) as e1,
    (select count(*) from devices where tenant_id = ${tenantId} and state = 'provisioned'
      and not_after >= ${now} and not_after < ${now + 7 * DAY_MS}) as e7,
    (select count(*) from renewal_keys where tenant_id = ${tenantId} and renew_at < ${overdueBefore}) as overdue,
    (select count(*) from device_groups where tenant_id = ${tenantId}) as groups,
    (select max(validity_s) from device_groups where tenant_id = ${tenantId}) as validity`;
  counts.expiringWithin24h = num(due?.e1 ?? 0);
  counts.expiringWithin7d = num(due?.e7 ?? 0);
  counts.overdue = num(due?.overdue ?? 0);
  counts.groups = num(due?.groups ?? 0);
  counts.longestValidity = num(due?.validity ?? 0);
  return counts;
}

/** Every group of a tenant with its number of devices, largest first (ties by name). */
export async function groupSizes(
  sql: Query,
  tenantId: string,
): Promise<{ group: string; devices: number }[]> {
  const rows = await sql`select g.name, coalesce(sum(t.n), 0) as n from device_groups g
    left join group_tallies t on t.tenant_id = g.tenant_id and t.group_name = g.name
    where g.tenant_id = ${tenantId} group by g.name`;
  return rows
    .map((row: Row) => ({ group: String(row.name), devices: num(row.n) }))
    .sort((a, b) => b.devices - a.devices || (a.group < b.group ? -1 : 1));
}

/** Planned renewals per hour from `fromHour`, for `hours` hours, of a group or ('' ) the whole tenant. */
export async function renewalForecast(
  sql: Query,
  tenantId: string,
  group: string | undefined,
  fromHour: number,
  hours: number,
): Promise<number[]> {
  const counts = new Array<number>(hours).fill(0);
  const rows = await sql`select hour, n from renewal_hours
    where tenant_id = ${tenantId} and group_name = ${group ?? ""} and hour >= ${fromHour} and hour < ${fromHour + hours}`;
  for (const row of rows) {
    const i = num(row.hour) - fromHour;
    if (i >= 0 && i < hours) counts[i] = (counts[i] ?? 0) + num(row.n);
  }
  return counts;
}
