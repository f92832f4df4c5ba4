/** The expiry timeline as SVG: overdue renewals before now, then certificates expiring within 24 h and 7 days. */

import type { FleetStatus } from "./api-types.ts";
import { h, svg } from "./dom.ts";
import { count, duration } from "./format.ts";

const WIDTH = 720;
const HEIGHT = 130;
const NOW_X = 170;
const END_X = 704;
const AXIS_Y = 96;
const BAND_MAX = 56;

type Counts = Pick<FleetStatus, "expiringWithin24h" | "expiringWithin7d" | "overdueRenewals">;

/** The summary in words (also the timeline's accessible name). */
export function expirySummary(status: Counts & { overdueSlackSeconds: number }): string {
  const later = status.expiringWithin7d - status.expiringWithin24h;
  return (
    `${count(status.expiringWithin24h)} certificates expire within 24 hours and ` +
    `${count(later)} more within 7 days; ${count(status.overdueRenewals)} renewals are overdue ` +
    `(planned renewal passed more than ${duration(status.overdueSlackSeconds)} ago).`
  );
}

/** A figure with the timeline and its summary as caption. */
export function expiryTimeline(status: FleetStatus): HTMLElement {
  const summary = expirySummary(status);
  const dayX = NOW_X + (END_X - NOW_X) / 7;
  const later = status.expiringWithin7d - status.expiringWithin24h;
  const largest = Math.max(1, status.overdueRenewals, status.expiringWithin24h, later);
  const band = (x1: number, x2: number, n: number, kind: string, label: string) => {
    const height = n === 0 ? 0 : Math.max(3, (n / largest) * BAND_MAX);
    return [
      svg("rect", {
        class: `band band-${kind}`,
        x: x1 + 2,
        y: AXIS_Y - height,
        width: x2 - x1 - 4,
        height,
      }),
      svg(
        "text",
        { class: "band-label", x: (x1 + x2) / 2, y: AXIS_Y - height - 6, "text-anchor": "middle" },
        label,
      ),
    ];
  };
  const chart = svg(
    "svg",
    {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      class: "chart",
      role: "img",
      "aria-label": `Certificate expiry timeline. ${summary}`,
    },
    ...band(
      16,
      NOW_X - 16,
      status.overdueRenewals,
      "overdue",
      `${count(status.overdueRenewals)} overdue`,
    ),
    ...band(NOW_X, dayX, status.expiringWithin24h, "24h", count(status.expiringWithin24h)),
    ...band(dayX, END_X, later, "7d", `${count(later)} within 7 days`),
    svg("line", { class: "axis", x1: NOW_X, x2: END_X, y1: AXIS_Y, y2: AXIS_Y }),
    svg("line", { class: "now", x1: NOW_X, x2: NOW_X, y1: 12, y2: AXIS_Y + 6 }),
  );
  for (const [x, anchor, label] of [
    [NOW_X, "middle", "now"],
    [dayX, "middle", "+24 h"],
    [END_X, "end", "+7 days"],
    [(16 + NOW_X - 16) / 2, "middle", "renewals overdue"],
  ] as const)
    chart.append(svg("text", { class: "tick", x, y: AXIS_Y + 22, "text-anchor": anchor }, label));
  return h(
    "figure",
    { class: "chart-figure" },
    chart,
    h("figcaption", { id: "expiry-summary" }, summary),
  );
}
