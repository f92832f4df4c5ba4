/** How times and counts read on the dashboard: UTC wall time plus how far away it is. */

import { h } from "./dom.ts";

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["day", 86_400],
  ["hour", 3_600],
  ["minute", 60],
  ["second", 1],
];

/** `2026-11-30 12:00 UTC` (`12:00:07 UTC` with `seconds`). */
export function utc(iso: string, seconds = false): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, seconds ? 19 : 16)} UTC`;
}

/** "in 3 hours", "5 minutes ago": the largest whole unit. */
export function fromNow(iso: string, now = Date.now()): string {
  const seconds = (Date.parse(iso) - now) / 1000;
  for (const [unit, size] of UNITS)
    if (Math.abs(seconds) >= size || unit === "second")
      return relative.format(Math.trunc(seconds / size), unit);
  return "";
}

/**
 * A `<time>` showing UTC wall time (to the second with `seconds`) and, after it, how far from now; "—" for
 * null, "not reported" when the server does not give the field.
 */
export function timeCell(iso: string | null | undefined, seconds = false): Node {
  if (iso === undefined) return h("span", { class: "muted" }, "not reported");
  if (iso === null) return document.createTextNode("—");
  return h(
    "span",
    { class: "when" },
    h("time", { datetime: iso }, utc(iso, seconds)),
    " ",
    h("span", { class: "muted" }, `(${fromNow(iso)})`),
  );
}

/** A count with thousands separators. */
export function count(n: number): string {
  return n.toLocaleString("en");
}

/** A duration in seconds as the largest whole unit: "30 days", "10 minutes". */
export function duration(seconds: number): string {
  for (const [unit, size] of UNITS)
    if (seconds >= size && seconds % size === 0) {
      const n = seconds / size;
      return `${n} ${unit}${n === 1 ? "" : "s"}`;
    }
  return `${seconds} seconds`;
}
