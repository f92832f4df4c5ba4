/**
 * Naming a device from its hardware: the source's value is read (a file, a MAC address, a DMI
 * identifier) and made into a name; once provisioned, the name pinned in the data folder wins.
 */

import { isAbsolute, join, resolve } from "node:path";
import { type DeviceSource, parseDeviceSource } from "../core/device-source.ts";
import { firstLine, hardwareName } from "../core/hardware-name.ts";
import { readPinnedName } from "./device-pin.ts";
import type { ReadText } from "./config.ts";

/** Where the host's hardware information is mounted: `/sys` on a device, a temp folder in tests. */
export interface HostPaths {
  sysfs: string;
}

/** How the device got its name, as `/status` and `check-config` show it. Holds no secret. */
export interface DeviceNaming {
  /** The source as configured (`file:/etc/machine-id`). */
  from: string;
  prefix: string;
  /** The name the hardware gives now; null when it gives none (`problem` says why). */
  resolved: string | null;
  problem: string | null;
  /** The name pinned in the data folder when the device was provisioned; null before. */
  pinned: string | null;
}

/** The name the agent uses and how it came about, or why there is none. */
export type Named =
  | { ok: true; name: string; naming: DeviceNaming }
  | { ok: false; problem: string };

/** Reads a source's value: the first line of its file, trimmed. */
export function readSourceValue(
  source: DeviceSource,
  read: ReadText,
  base: string,
  host: HostPaths,
): { ok: true; value: string } | { ok: false; problem: string } {
  const attempt = (path: string, hints: Partial<Record<string, string>> = {}) => {
    try {
      return { ok: true as const, value: firstLine(read(path)) };
    } catch (error) {
      const hint = hints[String((error as NodeJS.ErrnoException).code)] ?? "";
      return { ok: false as const, problem: `${path}: ${describe(error)}${hint}` };
    }
  };
  switch (source.kind) {
    case "file":
      return attempt(isAbsolute(source.path) ? source.path : resolve(base, source.path));
    case "mac": {
      const dir = join(host.sysfs, "class/net", source.iface);
      const found = attempt(join(dir, "address"), {
        ENOENT: ` (is there an interface ${source.iface}?)`,
      });
      // Hint: type 1 is NET_ADDR_RANDOM, an address drawn anew at every boot or driver load.
      const assigned = attempt(join(dir, "addr_assign_type"));
      if (found.ok && assigned.ok && assigned.value === "1")
        return {
          ok: false,
          problem: `the MAC address of ${source.iface} is random (addr_assign_type 1): it changes at every boot; name the device by another interface or source`,
        };
      return found;
    }
    case "dmi":
      return attempt(join(host.sysfs, "class/dmi/id", source.field), {
        EACCES:
          " (the kernel lets only root read DMI serials: run iotad as root, or have a boot-time unit copy the value to a file and use file:PATH)",
      });
  }
}

/**
 * The device's name from `{ from, prefix }`: the pinned name when the device was provisioned (the
 * hardware's name is still read, to report a change), else the hardware's name; no name at all is an
 * error naming the source.
 */
export function nameDevice(
  config: { from: string; prefix: string },
  read: ReadText,
  base: string,
  host: HostPaths,
  dataDir: string,
): Named {
  const parsed = parseDeviceSource(config.from);
  if (!parsed.ok) return { ok: false, problem: parsed.problem };
  const value = readSourceValue(parsed.source, read, base, host);
  const made = value.ok ? hardwareName(value.value, config.prefix) : undefined;
  const resolved = made?.ok ? made.name : null;
  const problem = value.ok
    ? made?.ok === false
      ? `the value ${made.problem}`
      : null
    : value.problem;
  const pinned = readPinnedName(read, dataDir) ?? null;
  const naming: DeviceNaming = {
    from: config.from,
    prefix: config.prefix,
    resolved,
    problem,
    pinned,
  };
  const name = pinned ?? resolved;
  if (name === null)
    return { ok: false, problem: `${config.from} gives no device name: ${problem ?? "no value"}` };
  return { ok: true, name, naming };
}

/** The warning to show when the hardware no longer gives the pinned name, or `undefined` when it does. */
export function namingWarning(naming: DeviceNaming): string | undefined {
  if (naming.pinned === null || naming.resolved === naming.pinned) return undefined;
  const now =
    naming.resolved !== null
      ? `now gives ${naming.resolved}`
      : `gives no name now (${naming.problem ?? "no value"})`;
  return `the device name source ${naming.from} ${now}, but this device was provisioned as ${naming.pinned}: it stays ${naming.pinned} (pinned in its data folder); if the board was replaced, an operator must decide which device it is`;
}

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "is a folder, not a file";
  return (error as Error).message;
}
