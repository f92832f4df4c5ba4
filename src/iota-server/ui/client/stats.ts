/** Counts as a list of labelled figures (a <dl>), for the fleet and for one group. */

import type { FleetStatus } from "./api-types.ts";
import { h } from "./dom.ts";
import { count } from "./format.ts";

/** The figures of a fleet summary: devices by state, readiness, expiry and overdue renewals. */
export function statusStats(status: FleetStatus, label: string): HTMLElement {
  const figures: [string, number, (string | undefined)?][] = [
    ["Devices", status.devices.total],
    ["Created", status.devices.created],
    ["Provisioned", status.devices.provisioned],
    ["Revoked", status.devices.revoked],
    ["Online", status.online, "good"],
    ["Offline", status.offline, status.offline > 0 ? "warn" : undefined],
    [
      "Expiring within 24 h",
      status.expiringWithin24h,
      status.expiringWithin24h > 0 ? "warn" : undefined,
    ],
    ["Expiring within 7 days", status.expiringWithin7d],
    ["Overdue renewals", status.overdueRenewals, status.overdueRenewals > 0 ? "bad" : undefined],
  ];
  const list = h("dl", { class: "stats", "aria-label": label });
  for (const [name, value, tone] of figures)
    list.append(
      h(
        "div",
        { class: tone ? `stat stat-${tone}` : "stat" },
        h("dt", {}, name),
        h("dd", {}, count(value)),
      ),
    );
  return list;
}
