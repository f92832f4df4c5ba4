/** Where iotactl finds its server and admin token: environment, then config file, then the local service. */

import { join, resolve } from "node:path";
import * as v from "valibot";
import { EXIT, CliError, usageError } from "./exit-codes.ts";
import { fileProblem, type Io } from "./io.ts";

/** The server `npm start` runs when nothing else is configured. */
export const DEFAULT_SERVER = "http://127.0.0.1:8440";
/** The admin token file of the local `npm start` service, relative to the working folder. */
export const LOCAL_TOKEN_FILE = ".iota/admin-token";

/** What `iotactl configure` writes. */
export const ConfigFileSchema = v.object({
  server: v.optional(v.string("must be a URL string")),
  token: v.optional(v.string("must be a string")),
});
export type ConfigFile = v.InferOutput<typeof ConfigFileSchema>;

/** The resolved settings and where each came from (for messages that never show the token). */
export interface Settings {
  server: string;
  serverSource: string;
  token: string | undefined;
  tokenSource: string;
}

/** `$XDG_CONFIG_HOME/iotactl/config.json`, `~/.config/iotactl/config.json` when unset. */
export function configPath(io: Io): string {
  const base = io.env.XDG_CONFIG_HOME || join(io.home, ".config");
  return join(base, "iotactl", "config.json");
}

/** The config file's contents; `{}` when it does not exist, a usage error when it is unreadable or malformed. */
export function readConfigFile(io: Io): ConfigFile {
  const path = configPath(io);
  if (!io.files.exists(path)) return {};
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
  const parsed = v.safeParse(ConfigFileSchema, json);
  if (!parsed.success)
    throw usageError(
      `${path}: ${parsed.issues[0]?.path?.[0]?.key ?? "file"} ${parsed.issues[0]?.message}`,
    );
  return parsed.output;
}

/** Checks a server URL (http or https, no path besides `/`) and returns it without a trailing slash. */
export function checkServerUrl(url: string, what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(
      `${what} must be a URL such as http://127.0.0.1:8440, got ${JSON.stringify(url)}`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw usageError(`${what} must start with http:// or https://, got ${JSON.stringify(url)}`);
  }
  return url.replace(/\/+$/, "");
}

/** Resolves the settings: IOTA_SERVER / IOTA_TOKEN, then the config file, then the local service's defaults. */
export function resolveSettings(io: Io): Settings {
  const file = readConfigFile(io);
  const path = configPath(io);
  let server = DEFAULT_SERVER;
  let serverSource = "default";
  if (io.env.IOTA_SERVER) [server, serverSource] = [io.env.IOTA_SERVER, "IOTA_SERVER"];
  else if (file.server) [server, serverSource] = [file.server, path];
  let token: string | undefined;
  let tokenSource = "none";
  if (io.env.IOTA_TOKEN) [token, tokenSource] = [io.env.IOTA_TOKEN.trim(), "IOTA_TOKEN"];
  else if (file.token) [token, tokenSource] = [file.token, path];
  else if (io.files.exists(resolve(io.cwd, LOCAL_TOKEN_FILE))) {
    try {
      token = io.files.readText(resolve(io.cwd, LOCAL_TOKEN_FILE)).trim();
      tokenSource = LOCAL_TOKEN_FILE;
    } catch (error) {
      throw usageError(`cannot read ${LOCAL_TOKEN_FILE}: ${fileProblem(error)}`);
    }
  }
  return {
    server: checkServerUrl(
      server,
      serverSource === "default" ? "the server" : `the server (from ${serverSource})`,
    ),
    serverSource,
    token: token || undefined,
    tokenSource,
  };
}

/** The admin token, or an auth error (exit 5) saying how to provide one. */
export function requireToken(settings: Settings): string {
  if (settings.token) return settings.token;
  throw new CliError(
    EXIT.AUTH,
    `no admin token: run "iotactl configure --server URL --token-file FILE", set IOTA_TOKEN, or run from the folder holding ${LOCAL_TOKEN_FILE}`,
  );
}
