/** `iotactl configure` without flags: the settings in use and where each comes from, never the token. */

import { certificateFingerprints } from "../core/fingerprint.ts";
import type { Settings } from "./config.ts";
import { configPath, readConfigFile } from "./config-file.ts";
import type { Io } from "./io.ts";
import { printFields, printJson } from "./output.ts";

/** The trust in one phrase: a pinned CA with its fingerprint, the system roots, or none (plain http). */
export function describeTrust(server: string, ca: string | undefined): string {
  if (server.startsWith("http:")) return "none: plain http";
  if (ca === undefined) return "the system roots";
  const [first = "?", ...rest] = certificateFingerprints(ca);
  return `pinned CA, SHA-256 ${first}${rest.length > 0 ? ` (+${rest.length} more)` : ""}`;
}

/** Prints the settings (fields for people, an object with --json). */
export function showSettings(io: Io, settings: Settings, json: boolean): void {
  const path = configPath(io);
  const others = Object.keys(readConfigFile(io).servers).filter((s) => s !== settings.server);
  const token = settings.token ? "set" : "missing";
  if (json) {
    printJson(io, {
      config: path,
      server: settings.server,
      serverFrom: settings.serverSource,
      token,
      tokenFrom: settings.tokenSource,
      trust: describeTrust(settings.server, settings.ca),
      trustFrom: settings.caSource,
      otherServers: others,
    });
    return;
  }
  printFields(io, [
    ["config file", path],
    ["server", `${settings.server}  (from ${settings.serverSource})`],
    ["token", `${token}  (from ${settings.tokenSource})`],
    [
      "trust",
      `${describeTrust(settings.server, settings.ca)}${settings.ca === undefined ? "" : `  (from ${settings.caSource})`}`,
    ],
    ["other servers", others.length > 0 ? others.join(", ") : null],
  ]);
}
