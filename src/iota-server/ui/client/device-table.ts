/** A page of devices as a table: state, online, certificate expiry, next renewal and last seen. */

import type { Device } from "./api-types.ts";
import { dataTable, h } from "./dom.ts";
import { timeCell } from "./format.ts";
import { routeHash } from "./router.ts";

/** "online", "offline", "never seen", or "not reported" by a server without readiness. */
export function onlineText(device: Device): string {
  if (device.online === undefined) return "not reported";
  if (device.online === null) return "never seen";
  return device.online ? "online" : "offline";
}

/** A state or readiness as a badge (text first: color only repeats it). */
export function badge(text: string): HTMLElement {
  return h("span", { class: `badge badge-${text.replace(/\s+/g, "-")}` }, text);
}

/** When a certificate expires; one already expired says so first, in words. */
export function expiryCell(notAfter: string | null): Node {
  const when = timeCell(notAfter);
  if (notAfter === null || Date.parse(notAfter) > Date.now()) return when;
  return h("span", {}, badge("expired"), " ", when);
}

/** The table of `devices` with `caption`. */
export function deviceTable(devices: Device[], caption: string): HTMLElement {
  const columns = ["Device", "State", "Online", "Certificate expires", "Next renewal", "Last seen"];
  return dataTable(
    "devices",
    caption,
    columns.map((title) => ({ title })),
    devices.map((d) => [
      h("a", { href: routeHash({ page: "device", group: d.group, device: d.name }) }, d.name),
      badge(d.state),
      badge(onlineText(d)),
      expiryCell(d.notAfter),
      timeCell(d.renewAt),
      timeCell(d.seenAt),
    ]),
  );
}
