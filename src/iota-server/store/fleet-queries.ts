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

/** The groups a selection names, with their validity: by name, or a page after a name (name order). */
async function selectGroups(sql: Query, tenantId: string, select: GroupSelection): Promise<Row[]> {
  if ("names" in select) {
    if (select.names.length === 0) return [];
    return await sql.unsafe(
      `select name, validity_s from device_groups where tenant_id = $1 and name in (${list(select.names, 2)}) order by name`,
      [tenantId, ...select.names],
    );
  }
  return await sql`select name, validity_s from device_groups where tenant_id = ${tenantId} and name > ${select.after}
    order by name limit ${select.limit}`;
}

/** Counters of the selected groups (groups without devices included), in name order. */
export async function groupTallies(
  sql: Query,
  tenantId: string,
  select: GroupSelection,
): Promise<GroupTally[]> {
  const groups = await selectGroups(sql, tenantId, select);
  if (groups.length === 0) return [];
  const names = groups.map((g: Row) => String(g.name));
  const rows = await sql.unsafe(
    `select group_name, state, readiness, n from group_tallies where tenant_id = $1 and group_name in (${list(names, 2)})`,
    [tenantId, ...names],
  );
  const tallies = new Map<string, GroupTally>();
  for (const g of groups)
    tallies.set(String(g.name), {
      group: String(g.name),
      validity: num(g.validity_s),
      byState: { created: 0, provisioned: 0, revoked: 0 },
      online: 0,
      offline: 0,
    });
  for (const row of rows) {
    const tally = tallies.get(String(row.group_name));
    if (tally) count(tally, row);
  }
  return [...tallies.values()];
}

/**
 * Expiring and overdue counts of the named groups. Hint: one correlated count per group and range, each a range
 * of the `devices_by_expiry` / `devices_by_renewal` index, so the cost is the groups plus the devices counted.
 */
export async function groupDue(
  sql: Query,
  tenantId: string,
  now: number,
  overdueBefore: number,
  names: string[],
): Promise<GroupDue[]> {
  if (names.length === 0) return [];
  const rows = await sql.unsafe(
    `select g.name,
      (select count(*) from devices d where d.tenant_id = g.tenant_id and d.group_name = g.name and d.state = 'provisioned'
        and d.not_after >= $2 and d.not_after < $3) as e1,
      (select count(*) from devices d where d.tenant_id = g.tenant_id and d.group_name = g.name and d.state = 'provisioned'
        and d.not_after >= $2 and d.not_after < $4) as e7,
      (select count(*) from devices d where d.tenant_id = g.tenant_id and d.group_name = g.name and d.state = 'provisioned'
        and d.renew_at < $5) as overdue
    from device_groups g where g.tenant_id = $1 and g.name in (${list(names, 6)}) order by g.name`,
    [tenantId, now, now + DAY_MS, now + 7 * DAY_MS, overdueBefore, ...names],
  );
  return rows.map((row: Row) => ({
    group: String(row.name),
    expiringWithin24h: num(row.e1),
    expiringWithin7d: num(row.e7),
    overdue: num(row.overdue),
  }));
}

/**
 * The whole tenant's counts: the counters summed in SQL, and the expiring and overdue devices counted on the
 * tenant-wide indexes (`devices_tenant_expiry`, `devices_tenant_renewal`), whatever the number of groups.
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
    (select count(*) from devices where tenant_id = ${tenantId} and state = 'provisioned'
      and renew_at < ${overdueBefore}) as overdue,
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
