/**
 * The `device` field of iotad's configuration: a literal name, or a source that names the device from
 * its own hardware (`{ "from": "file:/etc/machine-id", "prefix": "dev-" }`), so one configuration serves
 * a whole production run.
 */

import * as v from "valibot";
import { PREFIX_RULE, prefixProblem } from "./hardware-name.ts";
import { NameSchema } from "./wire.ts";

/** The DMI identifiers a device may be named by (files of /sys/class/dmi/id). */
export const DMI_FIELDS = [
  "product_serial",
  "product_uuid",
  "board_serial",
  "chassis_serial",
  "board_asset_tag",
  "chassis_asset_tag",
] as const;

/** One DMI identifier. */
export type DmiField = (typeof DMI_FIELDS)[number];

/** Where a device's name comes from. */
export type DeviceSource =
  /** The first line of a file, trimmed (`/etc/machine-id`, a serial a boot unit wrote to `/run`). */
  | { kind: "file"; path: string }
  /** The MAC address of a network interface (`/sys/class/net/IFACE/address`). */
  | { kind: "mac"; iface: string }
  /** A DMI identifier (`/sys/class/dmi/id/FIELD`). */
  | { kind: "dmi"; field: DmiField };

/** The source syntax in words. */
export const SOURCE_RULE = `file:PATH, mac:IFACE or dmi:FIELD (FIELD one of ${DMI_FIELDS.join(", ")})`;

/**
 * Why there is no `command:` source. Hint: the name is the device's identity for its whole life, so it
 * must come out the same at every boot; a program's output depends on its environment, its version and
 * the moment it runs, and a config that runs programs as the agent's user is one more thing to lock down.
 * A boot-time unit that writes the value once to a file covers every such case with `file:`.
 */
export const NO_COMMAND_SOURCE =
  "command: sources are not supported: the name must be identical at every boot, and a program's output can change with its environment, its version or its timing; have a boot-time unit write the value to a file and use file:PATH (e.g. file:/run/iotad/serial)";

const IFACE = /^[A-Za-z0-9_.:@-]{1,15}$/;

/** The parsed `from` of a source, or why it is not one. */
export function parseDeviceSource(
  from: string,
): { ok: true; source: DeviceSource } | { ok: false; problem: string } {
  const colon = from.indexOf(":");
  const kind = colon < 0 ? "" : from.slice(0, colon);
  const rest = colon < 0 ? "" : from.slice(colon + 1);
  if (kind === "command") return { ok: false, problem: NO_COMMAND_SOURCE };
  if (kind === "file") {
    if (rest === "" || rest.includes("\0"))
      return { ok: false, problem: "file: needs a path, e.g. file:/etc/machine-id" };
    return { ok: true, source: { kind: "file", path: rest } };
  }
  if (kind === "mac") {
    if (!IFACE.test(rest) || rest === "." || rest === "..")
      return {
        ok: false,
        problem: `mac: needs a network interface name (1-15 letters, digits, . _ - : @), e.g. mac:eth0; got ${JSON.stringify(rest)}`,
      };
    return { ok: true, source: { kind: "mac", iface: rest } };
  }
  if (kind === "dmi") {
    const field = DMI_FIELDS.find((f) => f === rest);
    if (field === undefined)
      return {
        ok: false,
        problem: `dmi: takes one of ${DMI_FIELDS.join(", ")}; got ${JSON.stringify(rest)}`,
      };
    return { ok: true, source: { kind: "dmi", field } };
  }
  return { ok: false, problem: `must be ${SOURCE_RULE}; got ${JSON.stringify(from)}` };
}

/** `{ from, prefix }`: a device named by its hardware. */
export const DeviceSourceSchema = v.strictObject(
  {
    from: v.pipe(
      v.string(`must be a string: ${SOURCE_RULE}`),
      v.check(
        (from) => parseDeviceSource(from).ok,
        (issue) => {
          const parsed = parseDeviceSource(String(issue.input));
          return parsed.ok ? "is not a device source" : parsed.problem;
        },
      ),
    ),
    prefix: v.optional(
      v.pipe(
        v.string(`must be a string: ${PREFIX_RULE}`),
        v.check(
          (prefix) => prefixProblem(prefix) === undefined,
          (issue) => `${prefixProblem(String(issue.input))}; a prefix is ${PREFIX_RULE}`,
        ),
      ),
      "",
    ),
  },
  "is not a known field of a device source (from, prefix)",
);

/** A device source as the configuration gives it. */
export type DeviceSourceConfig = v.InferOutput<typeof DeviceSourceSchema>;

/**
 * The `device` field: a string is a name (checked by the naming rule), an object a source. Hint: chosen
 * by the input's type, so a wrong name still says which naming rule it broke instead of a vague union error.
 */
export const DeviceFieldSchema = v.lazy((input: unknown) =>
  typeof input === "object" && input !== null && !Array.isArray(input)
    ? DeviceSourceSchema
    : NameSchema,
);
