/** iota-server's command line and environment, parsed and checked before anything is opened. */

import { parseArgs } from "node:util";
import { isIP } from "node:net";
import { join, resolve } from "node:path";
import { SERVER_EXIT_HELP, usageError } from "./exit.ts";

/** Everything iota-server needs to start. */
export interface ServerOptions {
  /** Data folder: database, master key, admin token. */
  data: string;
  listen: { host: string; port: number };
  /** `sqlite:PATH` or `postgres://...`. */
  db: string;
  /** Embedded MQTT broker address, when enabled. */
  mqttListen?: { host: string; port: number };
  /** Master key from the environment (base64url or hex of 32 bytes), else the data folder's file. */
  masterKey?: string;
  /** Load-balancer addresses whose X-Forwarded-For is believed for rate limiting. */
  trustProxy?: string[];
}

export const SERVER_USAGE = `Usage: iota-server [options]

Runs the IoTA tenant API: groups, devices, the CA, provisioning, renewal, revocation and CRL.

Options (each also read from the environment variable in brackets):
  --data DIR              data folder, created 0700 (IOTA_DATA; default ./.iota)
  --listen HOST:PORT      API address (IOTA_LISTEN; default 127.0.0.1:8440; port 0 picks one)
  --db URL                sqlite:PATH or postgres://... (IOTA_DB; default sqlite:DIR/iota.db)
  --mqtt-listen HOST:PORT embedded MQTT broker over TLS (IOTA_MQTT_LISTEN; off unless given)
  --trust-proxy ADDR,...  load balancers whose X-Forwarded-For names the client that rate limits
                          count (IOTA_TRUST_PROXY; default none: every client is its socket address)
  -h, --help              show this help
  -v, --version           show the version

Secrets at rest: CA keys and group secrets are sealed under a master key, read from
IOTA_MASTER_KEY (32 bytes, base64url or hex) or DIR/master.key (created 0600 on first start).
The first start creates the default tenant and writes its admin token to DIR/admin-token (0600).

Examples:
  iota-server
  iota-server --data /var/lib/iota --listen 0.0.0.0:8440
  IOTA_DB=postgres://iota@db/iota IOTA_MASTER_KEY=... iota-server --listen 0.0.0.0:8440

${SERVER_EXIT_HELP}`;

/** Parses `HOST:PORT` (IPv6 hosts in brackets); `what` names the flag in errors. */
export function parseHostPort(text: string, what: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535)
    throw usageError(
      `${what} must be HOST:PORT (e.g. 127.0.0.1:8440), got ${JSON.stringify(text)}`,
    );
  return { host: match[1] ?? (match[2] || "127.0.0.1"), port };
}

/** The command-line flags of iota-server. */
const FLAGS = {
  data: { type: "string" },
  listen: { type: "string" },
  db: { type: "string" },
  "mqtt-listen": { type: "string" },
  "trust-proxy": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

/** argv parsed against {@link FLAGS}; a 400 naming the flag otherwise. */
function readFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: FLAGS, allowPositionals: false, strict: true });
  } catch (error) {
    throw usageError((error as Error).message);
  }
}

/** Parses argv and the environment; throws a usage StartupError naming the bad flag. `undefined` for --help/--version. */
export function parseServerOptions(
  argv: string[],
  env: Record<string, string | undefined>,
): ServerOptions | "help" | "version" {
  const { values } = readFlags(argv);
  if (values.help) return "help";
  if (values.version) return "version";
  const data = resolve(values.data ?? env.IOTA_DATA ?? ".iota");
  const options: ServerOptions = {
    data,
    listen: parseHostPort(values.listen ?? env.IOTA_LISTEN ?? "127.0.0.1:8440", "--listen"),
    db: values.db ?? env.IOTA_DB ?? `sqlite:${join(data, "iota.db")}`,
  };
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(options.db))
    throw usageError(
      `--db must start with sqlite: or postgres://, got ${JSON.stringify(options.db)}`,
    );
  const mqtt = values["mqtt-listen"] ?? env.IOTA_MQTT_LISTEN;
  if (mqtt) options.mqttListen = parseHostPort(mqtt, "--mqtt-listen");
  if (env.IOTA_MASTER_KEY) options.masterKey = env.IOTA_MASTER_KEY;
  const proxies = values["trust-proxy"] ?? env.IOTA_TRUST_PROXY;
  if (proxies !== undefined) options.trustProxy = parseProxyList(proxies);
  return options;
}

/** The `--trust-proxy` list: IP addresses separated by commas; throws naming the bad entry. */
export function parseProxyList(text: string): string[] {
  const entries = text
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  for (const entry of entries) {
    if (!isIP(entry))
      throw usageError(
        `--trust-proxy takes IP addresses separated by commas; ${JSON.stringify(entry)} is not one`,
      );
  }
  if (entries.length === 0) throw usageError("--trust-proxy needs at least one IP address");
  return entries;
}
