/** The renewal forecast as an SVG bar chart: renewals due per bucket over the next renewal period. */

import type { RenewalForecast } from "./api-types.ts";
import { h, svg } from "./dom.ts";
import { count, duration, utc } from "./format.ts";

const WIDTH = 720;
const HEIGHT = 220;
const LEFT = 52;
const RIGHT = 12;
const TOP = 14;
const BOTTOM = 40;

/** The summary a reader gets in words (also the chart's accessible name). */
export function forecastSummary(forecast: RenewalForecast): string {
  const total = forecast.renewals.reduce((a, b) => a + b, 0);
  const span = duration(forecast.bucketSeconds * forecast.renewals.length);
  const per = duration(forecast.bucketSeconds).replace(/^1 /, "");
  if (total === 0) return `No renewals are due in the next ${span}.`;
  const peak = Math.max(...forecast.renewals);
  const at = bucketStart(forecast, forecast.renewals.indexOf(peak));
  return `${count(total)} renewals are due in the next ${span}; at most ${count(peak)} per ${per} (from ${utc(at)}).`;
}

function bucketStart(forecast: RenewalForecast, index: number): string {
  return new Date(Date.parse(forecast.from) + index * forecast.bucketSeconds * 1000).toISOString();
}

/** A figure with the chart and its summary as caption. */
export function forecastChart(forecast: RenewalForecast): HTMLElement {
  const summary = forecastSummary(forecast);
  const n = Math.max(forecast.renewals.length, 1);
  const peak = Math.max(1, ...forecast.renewals);
  const plotW = WIDTH - LEFT - RIGHT;
  const plotH = HEIGHT - TOP - BOTTOM;
  const step = plotW / n;
  const base = TOP + plotH;
  const chart = svg(
    "svg",
    {
      viewBox: `0 0 ${WIDTH} ${HEIGHT}`,
      class: "chart",
      role: "img",
      "aria-label": `Renewal forecast. ${summary}`,
    },
    svg("line", { class: "grid", x1: LEFT, x2: WIDTH - RIGHT, y1: TOP, y2: TOP }),
    svg("line", { class: "axis", x1: LEFT, x2: WIDTH - RIGHT, y1: base, y2: base }),
    svg("text", { class: "tick", x: LEFT - 6, y: TOP + 4, "text-anchor": "end" }, count(peak)),
    svg("text", { class: "tick", x: LEFT - 6, y: base, "text-anchor": "end" }, "0"),
  );
  forecast.renewals.forEach((due, i) => {
    if (due === 0) return;
    const height = (due / peak) * plotH;
    const start = bucketStart(forecast, i);
    chart.append(
      svg(
        "rect",
        {
          class: "bar",
          x: (LEFT + i * step).toFixed(2),
          y: (base - height).toFixed(2),
          width: Math.max(step * 0.8, 0.6).toFixed(2),
          height: height.toFixed(2),
        },
        svg("title", {}, `${count(due)} due from ${utc(start)}`),
      ),
    );
  });
  const end = bucketStart(forecast, forecast.renewals.length);
  for (const [x, anchor, label] of [
    [LEFT, "start", utc(forecast.from)],
    [WIDTH - RIGHT, "end", utc(end)],
  ] as const)
    chart.append(svg("text", { class: "tick", x, y: base + 18, "text-anchor": anchor }, label));
  return h(
    "figure",
    { class: "chart-figure" },
    chart,
    h("figcaption", { id: "forecast-summary" }, summary),
  );
}
