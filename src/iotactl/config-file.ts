/**
 * iotactl's config file, `$XDG_CONFIG_HOME/iotactl/config.json` (0600): the current server, and per
 * server its admin token and pinned CA, so a token is only ever paired with the server it was given for.
 */

import { dirname, join } from "node:path";
import * as v from "valibot";
import { usageError } from "./exit-codes.ts";
import { fileProblem, type Io } from "./io.ts";
import { checkServerUrl } from "./server-url.ts";

/** What iotactl keeps for one server. */
export interface ServerEntry {
  /** The admin token for this server, and no other. */
  token?: string;
  /** The pinned server CA (PEM): the only trust for this server's certificate. */
  ca?: string;
}

/** The file's contents: `{ "current": URL, "servers": { URL: { "token", "ca" } } }`, URLs canonical. */
export interface ConfigFile {
  current?: string;
  servers: Record<string, ServerEntry>;
}

const Entry = v.object({
  token: v.optional(v.string("must be a string")),
  ca: v.optional(
    v.pipe(
      v.string("must be a PEM string"),
      v.includes("-----BEGIN CERTIFICATE-----", "must be a PEM certificate"),
    ),
  ),
});
const CurrentShape = v.object({
  current: v.optional(v.string("must be a URL string")),
  servers: v.optional(v.record(v.string(), Entry), {}),
});
// Hint: the shape written before tokens were kept per server; read so an upgrade keeps working.
const LegacyShape = v.object({
  server: v.optional(v.string("must be a URL string")),
  token: v.optional(v.string("must be a string")),
});
/** The server a legacy file without `server` meant: the default of the time. */
const LEGACY_DEFAULT_SERVER = "http://127.0.0.1:8440";

/** `$XDG_CONFIG_HOME/iotactl/config.json`, `~/.config/iotactl/config.json` when unset. */
export function configPath(io: Io): string {
  const base = io.env.XDG_CONFIG_HOME || join(io.home, ".config");
  return join(base, "iotactl", "config.json");
}

/** The config file's contents; empty when it does not exist, a usage error when unreadable or malformed. */
export function readConfigFile(io: Io): ConfigFile {
  const path = configPath(io);
  if (!io.files.exists(path)) return { servers: {} };
  let text: string;
  try {
    text = io.files.readText(path);
  } catch (error) {
    throw usageError(`cannot read ${path}: ${fileProblem(error)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw usageError(`${path} is not valid JSON; run iotactl configure again`);
  }
  const legacy =
    typeof json === "object" && json !== null && !("servers" in json) && !("current" in json);
  const parsed = legacy ? v.safeParse(LegacyShape, json) : v.safeParse(CurrentShape, json);
  if (!parsed.success) {
    const issue = parsed.issues[0];
    const field = issue?.path?.map((p) => String(p.key)).join(".") || "the file";
    throw usageError(`${path}: ${field} ${issue?.message}; run iotactl configure again`);
  }
  const where = (what: string) => `${what} in ${path}`;
  if (legacy) {
    const old = parsed.output as v.InferOutput<typeof LegacyShape>;
    const server = checkServerUrl(old.server ?? LEGACY_DEFAULT_SERVER, where("server"));
    const file: ConfigFile = { servers: { [server]: old.token ? { token: old.token } : {} } };
    if (old.server !== undefined) file.current = server;
    return file;
  }
  const current = parsed.output as v.InferOutput<typeof CurrentShape>;
  const file: ConfigFile = { servers: {} };
  if (current.current !== undefined)
    file.current = checkServerUrl(current.current, where("current"));
  for (const [url, entry] of Object.entries(current.servers)) {
    const clean: ServerEntry = {};
    if (entry.token !== undefined) clean.token = entry.token;
    if (entry.ca !== undefined) clean.ca = entry.ca;
    file.servers[checkServerUrl(url, where(`the server ${JSON.stringify(url)}`))] = clean;
  }
  return file;
}

/** Writes the whole file (0600, in a 0700 folder). */
export function writeConfigFile(io: Io, file: ConfigFile): string {
  const path = configPath(io);
  io.files.mkdir(dirname(path), 0o700);
  io.files.writeFile(path, `${JSON.stringify(file, null, 2)}\n`, 0o600);
  return path;
}
