/**
 * The fleet reads: counters per group, range counts, the renewal forecast and device history, each answered
 * from an index or the counters (tally-sql.ts) so their cost does not grow with the number of devices.
 */

import type { DeviceState } from "../../core/wire.ts";
import type { DeviceEvent, GroupDue, GroupTally } from "./fleet-store.ts";
import type { DeviceKey } from "./store.ts";
import type { Query } from "./sql-driver.ts";
import { num, type Row } from "./rows.ts";

const DAY_MS = 86_400_000;

/** The `(all = 1 or name = only)` parameters of a query over every group (no name) or one group. */
const oneOrAll = (group: string | undefined): [number, string] =>
  group === undefined ? [1, ""] : [0, group];

/** Counters of every group of a tenant (or one group), groups without devices included. */
export async function groupTallies(
  sql: Query,
  tenantId: string,
  group?: string,
): Promise<GroupTally[]> {
  const [all, only] = oneOrAll(group);
  const rows = await sql`select g.name, g.validity_s, t.state, t.readiness, t.n from device_groups g
    left join group_tallies t on t.tenant_id = g.tenant_id and t.group_name = g.name
    where g.tenant_id = ${tenantId} and (${all} = 1 or g.name = ${only}) order by g.name`;
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
    if (row.state === null || row.state === undefined) continue;
    const n = num(row.n);
    const state = String(row.state) as DeviceState;
    tally.byState[state] += n;
    if (state !== "provisioned") continue;
    if (row.readiness === "online") tally.online += n;
    else if (row.readiness === "offline") tally.offline += n;
  }
  return [...tallies.values()];
}

/**
 * Expiring and overdue counts per group. Hint: one correlated count per group and range, each a range of the
 * `devices_by_expiry` / `devices_by_renewal` index, so the cost is the groups plus the devices counted.
 */
export async function groupDue(
  sql: Query,
  tenantId: string,
  now: number,
  overdueBefore: number,
  group?: string,
): Promise<GroupDue[]> {
  const day = now + DAY_MS;
  const week = now + 7 * DAY_MS;
  const [all, only] = oneOrAll(group);
  const rows = await sql`select g.name,
      (select count(*) from devices d where d.tenant_id = g.tenant_id and d.group_name = g.name and d.state = 'provisioned'
        and d.not_after >= ${now} and d.not_after < ${day}) as e1,
      (select count(*) from devices d where d.tenant_id = g.tenant_id and d.group_name = g.name and d.state = 'provisioned'
        and d.not_after >= ${now} and d.not_after < ${week}) as e7,
      (select count(*) from devices d where d.tenant_id = g.tenant_id and d.group_name = g.name and d.state = 'provisioned'
        and d.renew_at < ${overdueBefore}) as overdue
    from device_groups g where g.tenant_id = ${tenantId} and (${all} = 1 or g.name = ${only}) order by g.name`;
  return rows.map((row: Row) => ({
    group: String(row.name),
    expiringWithin24h: num(row.e1),
    expiringWithin7d: num(row.e7),
    overdue: num(row.overdue),
  }));
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

/**
 * A device's history since it was created: its certificates (provisioned or renewed) and the operator's revocations
 * and resets, oldest first. Hint: certificates recorded before migration 4 carry no kind; the first one after the
 * creation or a reset counts as provisioned, the others as renewed.
 */
export async function deviceHistory(sql: Query, k: DeviceKey): Promise<DeviceEvent[]> {
  const [device] =
    await sql`select created_at from devices where tenant_id = ${k.tenantId} and group_name = ${k.group} and name = ${k.name}`;
  if (!device) return [];
  const since = num(device.created_at);
  const certificates = await sql`select serial, issued_at, kind from certificates
    where tenant_id = ${k.tenantId} and group_name = ${k.group} and device = ${k.name} and issued_at >= ${since}`;
  const operator = await sql`select at, event, serial from device_events
    where tenant_id = ${k.tenantId} and group_name = ${k.group} and device = ${k.name} and at >= ${since}`;
  const ORDER = { created: 0, reset: 1, revoked: 2, provisioned: 3, renewed: 4 } as const;
  const merged: (DeviceEvent & { kind?: unknown })[] = [
    { at: since, event: "created", serial: null },
    ...operator.map((r: Row) => ({
      at: num(r.at),
      event: String(r.event) as "revoked" | "reset",
      serial: r.serial === null ? null : String(r.serial),
    })),
    ...certificates.map((r: Row) => ({
      at: num(r.issued_at),
      event: (r.kind === "renew" ? "renewed" : "provisioned") as DeviceEvent["event"],
      serial: String(r.serial),
      kind: r.kind,
    })),
  ];
  merged.sort((a, b) => a.at - b.at || ORDER[a.event] - ORDER[b.event]);
  let holding = false;
  return merged.map(({ kind, ...event }) => {
    if (event.event === "provisioned" || event.event === "renewed") {
      if (kind === null || kind === undefined) event.event = holding ? "renewed" : "provisioned";
      holding = true;
    } else holding = false;
    return event;
  });
}
