/**
 * The fleet's gauges for Prometheus, read from the same counters as the fleet status. Label cardinality is
 * bounded: per-group series exist for the `topGroups` largest groups by device count (ties by name), and every
 * other group is summed under `group="_other"` (not a valid group name, so it never collides with one).
 */

import type { DomainContext } from "../domain/context.ts";
import { addCounts, groupStatuses, tenantCounts } from "../domain/fleet-status.ts";
import type { GroupStatus } from "../../core/fleet.ts";
import { gauge } from "./prometheus.ts";

/** Per-group series by default; the rest are summed under `_other`. */
export const DEFAULT_METRICS_GROUPS = 50;
/** The label value of the groups beyond the largest ones. */
export const OTHER_GROUPS = "_other";

/** `total` minus the counts of `shown`: what the groups not shown add up to. */
function rest(total: Omit<GroupStatus, "name">, shown: GroupStatus[]): GroupStatus {
  const other: GroupStatus = { name: OTHER_GROUPS, ...total, devices: { ...total.devices } };
  for (const g of shown) addCounts(other, g, -1);
  return other;
}

/** The fleet gauges of `tenant` in the text format. */
export async function fleetMetrics(
  ctx: DomainContext,
  tenant: string,
  topGroups: number,
  overdueSlackSeconds: number,
): Promise<string> {
  const sizes = await ctx.store.groupSizes(tenant);
  const top = sizes.slice(0, topGroups).map((g) => g.group);
  const { groups } = await groupStatuses(ctx, tenant, overdueSlackSeconds, { names: top });
  const shown = [...groups].sort(
    (a, b) => b.devices.total - a.devices.total || (a.name < b.name ? -1 : 1),
  );
  // Hint: the others are the tenant's totals minus the groups shown, so they cost nothing per group.
  if (sizes.length > top.length) {
    const { total } = await tenantCounts(ctx, tenant, overdueSlackSeconds);
    shown.push(rest(total, groups));
  }
  const bound = `Per group for the ${topGroups} largest groups (iota-server --metrics-groups); the others summed under group="${OTHER_GROUPS}".`;
  const per = (value: (g: GroupStatus) => number) =>
    shown.map((g) => ({ labels: { group: g.name }, value: value(g) }));
  return [
    gauge(
      "iota_groups",
      "Groups of the tenant (per-group series are bounded, see iota_devices).",
      [],
      [{ labels: {}, value: sizes.length }],
    ),
    gauge(
      "iota_devices",
      `Devices by group and state. ${bound}`,
      ["group", "state"],
      shown.flatMap((g) =>
        (["created", "provisioned", "revoked"] as const).map((state) => ({
          labels: { group: g.name, state },
          value: g.devices[state],
        })),
      ),
    ),
    gauge(
      "iota_devices_online",
      `Provisioned devices online (a live broker session or a retained ready message). ${bound}`,
      ["group"],
      per((g) => g.online),
    ),
    gauge(
      "iota_devices_offline",
      `Provisioned devices offline (a retained offline message, or gone). ${bound}`,
      ["group"],
      per((g) => g.offline),
    ),
    gauge(
      "iota_renewals_overdue",
      `Provisioned devices whose planned renewal passed more than ${overdueSlackSeconds} s ago. ${bound}`,
      ["group"],
      per((g) => g.overdueRenewals),
    ),
    gauge(
      "iota_certificates_expiring",
      `Provisioned devices whose certificate expires within 24h or 7d (7d includes 24h). ${bound}`,
      ["group", "within"],
      shown.flatMap((g) => [
        { labels: { group: g.name, within: "24h" }, value: g.expiringWithin24h },
        { labels: { group: g.name, within: "7d" }, value: g.expiringWithin7d },
      ]),
    ),
  ].join("");
}
