/** The fleet summary of a tenant or a group: devices by state, readiness, expiry, overdue renewals, forecast. */

import type { DeviceCounts, FleetStatus, GroupStatus } from "../../core/fleet.ts";
import { DEFAULT_RENEWAL_POLICY } from "../../core/renewal.ts";
import type { GroupDue, GroupTally } from "../store/fleet-store.ts";
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
  for (const g of groups) {
    for (const k of ["total", "created", "provisioned", "revoked"] as const)
      total.devices[k] += g.devices[k];
    for (const k of [
      "online",
      "offline",
      "expiringWithin24h",
      "expiringWithin7d",
      "overdueRenewals",
    ] as const)
      total[k] += g[k];
  }
  return total;
}

/** Every group's counts (or one group's), in name order. */
export async function groupStatuses(
  ctx: DomainContext,
  tenant: string,
  overdueSlackSeconds: number,
  group?: string,
): Promise<{ groups: GroupStatus[]; longestValidity: number }> {
  const now = ctx.now();
  const tallies = await ctx.store.groupTallies(tenant, group);
  const due = await ctx.store.groupDue(tenant, now, now - overdueSlackSeconds * 1000, group);
  const dueOf = new Map(due.map((d) => [d.group, d]));
  return {
    groups: tallies.map((t) => groupStatus(t, dueOf.get(t.group))),
    longestValidity: Math.max(0, ...tallies.map((t) => t.validity)),
  };
}

/** The summary of a tenant (with one page of its groups) or of one group. */
export async function fleetStatus(
  ctx: DomainContext,
  tenant: string,
  query: StatusQuery,
): Promise<FleetStatus> {
  if (query.group !== undefined) await requireGroup(ctx, tenant, query.group);
  const now = ctx.now();
  const { groups, longestValidity } = await groupStatuses(
    ctx,
    tenant,
    query.overdueSlackSeconds,
    query.group,
  );
  const fromHour = Math.floor(now / BUCKET_MS);
  // Hint: the renewal period of the longest-lived certificates: each device renews once within it.
  const period = longestValidity * 1000 * DEFAULT_RENEWAL_POLICY.fraction;
  const hours = Math.ceil(period / BUCKET_MS);
  const status: FleetStatus = {
    at: new Date(now).toISOString(),
    ...totalOf(groups),
    overdueSlackSeconds: query.overdueSlackSeconds,
    forecast: {
      from: new Date(fromHour * BUCKET_MS).toISOString(),
      bucketSeconds: BUCKET_MS / 1000,
      renewals: await ctx.store.renewalForecast(tenant, query.group, fromHour, hours),
    },
  };
  if (query.group !== undefined) return status;
  const after = query.cursor ?? "";
  const rest = groups.filter((g) => g.name > after);
  status.groups = rest.slice(0, query.limit);
  const last = status.groups[status.groups.length - 1];
  if (rest.length > query.limit && last) status.nextCursor = last.name;
  return status;
}
