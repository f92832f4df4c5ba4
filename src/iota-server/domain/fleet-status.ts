/** The fleet summary of a tenant or a group: devices by state, readiness, expiry, overdue renewals, forecast. */

import { invalidField } from "../../core/errors.ts";
import type { DeviceCounts, FleetStatus, GroupStatus } from "../../core/fleet.ts";
import { isValidName } from "../../core/names.ts";
import { DEFAULT_RENEWAL_POLICY, latestRenewal } from "../../core/renewal.ts";
import type { GroupDue, GroupSelection, GroupTally } from "../store/fleet-store.ts";
import type { DomainContext } from "./context.ts";
import { requireGroup } from "./groups.ts";

/** How long after its planned renewal a device counts as overdue, by default: an hour. */
export const DEFAULT_OVERDUE_SLACK_SECONDS = 3600;
/** The forecast's bucket: renewals per hour. */
const BUCKET_MS = 3_600_000;

/** What a summary is asked for. */
export interface StatusQuery {
  /** One group (its summary has no `groups`), or the whole tenant. */
  group?: string;
  /** Groups per page of the tenant's summary. */
  limit: number;
  /** The `nextCursor` of the previous page: the name of the last group listed. */
  cursor?: string;
  overdueSlackSeconds: number;
}

const counts = (t: GroupTally): DeviceCounts => ({
  total: t.byState.created + t.byState.provisioned + t.byState.revoked,
  ...t.byState,
});

/** One group's counts from its counters and range counts. */
function groupStatus(t: GroupTally, due: GroupDue | undefined): GroupStatus {
  return {
    name: t.group,
    devices: counts(t),
    online: t.online,
    offline: t.offline,
    expiringWithin24h: due?.expiringWithin24h ?? 0,
    expiringWithin7d: due?.expiringWithin7d ?? 0,
    overdueRenewals: due?.overdue ?? 0,
  };
}

/** The sum of several groups' counts. */
export function totalOf(groups: GroupStatus[]): Omit<GroupStatus, "name"> {
  const total: Omit<GroupStatus, "name"> = {
    devices: { total: 0, created: 0, provisioned: 0, revoked: 0 },
    online: 0,
    offline: 0,
    expiringWithin24h: 0,
    expiringWithin7d: 0,
    overdueRenewals: 0,
  };
  for (const g of groups) addCounts(total, g, 1);
  return total;
}

/** Adds `sign` times every count of `from` to `into`: 1 to sum groups, -1 to take one out. */
export function addCounts(
  into: Omit<GroupStatus, "name">,
  from: Omit<GroupStatus, "name">,
  sign: 1 | -1,
): void {
  for (const k of ["total", "created", "provisioned", "revoked"] as const)
    into.devices[k] += sign * from.devices[k];
  for (const k of [
    "online",
    "offline",
    "expiringWithin24h",
    "expiringWithin7d",
    "overdueRenewals",
  ] as const)
    into[k] += sign * from[k];
}

/** The counts of the selected groups, in name order. */
export async function groupStatuses(
  ctx: DomainContext,
  tenant: string,
  overdueSlackSeconds: number,
  select: GroupSelection,
): Promise<{ groups: GroupStatus[]; tallies: GroupTally[] }> {
  const now = ctx.now();
  const tallies = await ctx.store.groupTallies(tenant, select);
  const due = await ctx.store.groupDue(tenant, now, now - overdueSlackSeconds * 1000, select);
  const dueOf = new Map(due.map((d) => [d.group, d]));
  return { groups: tallies.map((t) => groupStatus(t, dueOf.get(t.group))), tallies };
}

/** The whole tenant's counts (their cost does not grow with its groups or devices). */
export async function tenantCounts(
  ctx: DomainContext,
  tenant: string,
  overdueSlackSeconds: number,
): Promise<{ total: Omit<GroupStatus, "name">; groups: number; longestValidity: number }> {
  const now = ctx.now();
  const c = await ctx.store.fleetCounts(tenant, now, now - overdueSlackSeconds * 1000);
  const total = groupStatus(
    { group: "", validity: 0, byState: c.byState, online: c.online, offline: c.offline },
    { group: "", ...c },
  );
  const { name: _, ...counts } = total;
  return { total: counts, groups: c.groups, longestValidity: c.longestValidity };
}

/** The summary of a tenant (with one page of its groups) or of one group. */
export async function fleetStatus(
  ctx: DomainContext,
  tenant: string,
  query: StatusQuery,
): Promise<FleetStatus> {
  if (query.group !== undefined) await requireGroup(ctx, tenant, query.group);
  // Hint: a cursor is the last group's name; anything else was not a nextCursor of this listing.
  if (query.cursor !== undefined && !isValidName(query.cursor))
    throw invalidField("cursor", "is not a nextCursor of this listing");
  const now = ctx.now();
  const slack = query.overdueSlackSeconds;
  let total: Omit<GroupStatus, "name">;
  let longestValidity: number;
  let page: GroupStatus[] = [];
  if (query.group !== undefined) {
    const one = await groupStatuses(ctx, tenant, slack, { names: [query.group] });
    const { name: _, ...counts } = one.groups[0] ?? { name: "", ...totalOf([]) };
    total = counts;
    longestValidity = one.tallies[0]?.validity ?? 0;
  } else {
    ({ total, longestValidity } = await tenantCounts(ctx, tenant, slack));
    const select = { after: query.cursor ?? "", limit: query.limit + 1 };
    page = (await groupStatuses(ctx, tenant, slack, select)).groups;
  }
  const fromHour = Math.floor(now / BUCKET_MS);
  // Hint: the renewal period of the longest-lived certificates (each device renews once within it), from now:
  // the buckets start at the current hour and reach past now + period, where period is the latest a renewal
  // can be planned (a first renewal is spread up to jitter/2 past 2/3 of the lifetime).
  const period = longestValidity * 1000 * latestRenewal(DEFAULT_RENEWAL_POLICY);
  const hours = Math.ceil((now - fromHour * BUCKET_MS + period) / BUCKET_MS);
  const status: FleetStatus = {
    at: new Date(now).toISOString(),
    ...total,
    overdueSlackSeconds: slack,
    forecast: {
      from: new Date(fromHour * BUCKET_MS).toISOString(),
      bucketSeconds: BUCKET_MS / 1000,
      renewals: await ctx.store.renewalForecast(tenant, query.group, fromHour, hours),
    },
  };
  if (query.group !== undefined) return status;
  status.groups = page.slice(0, query.limit);
  const last = status.groups[status.groups.length - 1];
  if (page.length > query.limit && last) status.nextCursor = last.name;
  return status;
}
