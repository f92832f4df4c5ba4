/** iota-server's command line and environment, parsed and checked before anything is opened. */

import { parseArgs } from "node:util";
import { argumentProblem } from "../core/argument-problem.ts";
import { isIP } from "node:net";
import { join, resolve } from "node:path";
import { SERVER_EXIT_HELP, usageError } from "./exit.ts";
import { redactUrl } from "./store/database-url.ts";
import { FLEET_USAGE, parseFleetOptions, type FleetOptions } from "./config-fleet.ts";

/** How the API listener speaks: HTTPS with the service's own trust, HTTPS with the operator's certificate, or plain HTTP. */
export type TlsMode =
  /** HTTPS with a server certificate from the service's own server CA, for `hostnames` (plus loopback). */
  | { kind: "self"; hostnames: string[] }
  /** HTTPS with the operator's certificate chain and key, read again on SIGHUP. */
  | { kind: "operator"; certFile: string; keyFile: string }
  /** Plain HTTP: behind a TLS-terminating load balancer, or for local development. */
  | { kind: "plain" };

/** A token bucket: `rate` per second (0 = no limit) and bursts of `burst`. */
export interface IssueRate {
  rate: number;
  burst: number;
}

/** Everything iota-server needs to start. */
export interface ServerConfig extends FleetOptions {
  /** Data folder: database, master key, admin token, server CA. */
  data: string;
  listen: { host: string; port: number };
  /** `sqlite:PATH` or `postgres://...`. */
  db: string;
  /** Transport of the API listener (HTTPS with the service's own trust unless told otherwise). */
  tls: TlsMode;
  /** Embedded MQTT broker address, when enabled. */
  mqttListen?: { host: string; port: number };
  /** Master key from the environment (base64url or hex of 32 bytes), else the data folder's file. */
  masterKey?: string;
  /** Load-balancer addresses whose X-Forwarded-For is believed for rate limiting. */
  trustProxy?: string[];
  /** Provision and renew requests per source address. */
  issueRate: IssueRate;
}

/** The default issue limit: a factory line behind one address, 100 certificates/s in bursts of 2,000. */
export const DEFAULT_ISSUE_RATE: IssueRate = { rate: 100, burst: 2000 };

export const SERVER_USAGE = `Usage: iota-server [options]
       iota-server rotate-admin-token [--data DIR] [--db URL]   (see its --help)

Runs the IoTA tenant API: groups, devices, the CA, provisioning, renewal, revocation and CRL.

Options (each also read from the environment variable in brackets):
  --data DIR              data folder, created 0700 (IOTA_DATA; default ./.iota)
  --listen HOST:PORT      API address (IOTA_LISTEN; default 127.0.0.1:8440; port 0 picks one)
  --db URL                sqlite:PATH or postgres://... (IOTA_DB; default sqlite:DIR/iota.db);
                          a PostgreSQL across a network is reached over verified TLS unless the
                          URL names an sslmode (sslrootcert=FILE gives its CA; sslmode=disable
                          sends in clear)
  --hostname NAME         a name (DNS or IP) of the server certificate; repeat for more
                          (IOTA_HOSTNAME, comma-separated; default the machine's host name;
                          localhost, 127.0.0.1 and ::1 are always included)
  --tls-cert FILE         serve the operator's certificate chain (PEM) instead of the service's
  --tls-key FILE          own; with --tls-key (IOTA_TLS_CERT, IOTA_TLS_KEY); SIGHUP reloads both
  --plain-http            serve plain HTTP, for a TLS-terminating load balancer or local
                          development (IOTA_PLAIN_HTTP=1); beyond loopback tokens and secrets
                          would cross the network in clear text
  --issue-rate N          provision and renew requests per second per source address, 0 for no
                          limit (IOTA_ISSUE_RATE; default ${DEFAULT_ISSUE_RATE.rate})
  --issue-burst N         requests a source may send at once after a quiet spell
                          (IOTA_ISSUE_BURST; default ${DEFAULT_ISSUE_RATE.burst})
  --mqtt-listen HOST:PORT embedded MQTT broker over TLS (IOTA_MQTT_LISTEN; off unless given)
  --trust-proxy ADDR,...  load balancers whose X-Forwarded-For names the client that rate limits
                          count (IOTA_TRUST_PROXY; default none: every client is its socket address)
${FLEET_USAGE}  -h, --help              show this help
  -v, --version           show the version

Transport: HTTPS by default. The first start creates the service's own server CA,
DIR/server-ca.pem (separate from the tenant CA that signs devices), whose SHA-256 fingerprint
is printed at every start: clients pin it with
  iotactl configure --server https://HOST:PORT --fingerprint <fingerprint>
The server certificate is renewed by the service itself, without a restart.

Secrets at rest: CA keys and group secrets are sealed under a master key, read from
IOTA_MASTER_KEY (32 bytes, base64url or hex) or DIR/master.key (created 0600 on first start).
The first start creates the default tenant and writes its admin token to DIR/admin-token (0600).

Examples:
  iota-server
  iota-server --data /var/lib/iota --listen 0.0.0.0:8440 --hostname iota.example.com
  iota-server --listen 0.0.0.0:8440 --tls-cert /etc/iota/tls/fullchain.pem --tls-key /etc/iota/tls/key.pem
  IOTA_DB='postgres://iota@db/iota?sslrootcert=/etc/iota/db-ca.pem' IOTA_MASTER_KEY=... \\
    iota-server --plain-http --listen 10.0.0.5:8440

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
  hostname: { type: "string", multiple: true },
  "tls-cert": { type: "string" },
  "tls-key": { type: "string" },
  "plain-http": { type: "boolean" },
  "issue-rate": { type: "string" },
  "issue-burst": { type: "string" },
  "mqtt-listen": { type: "string" },
  "trust-proxy": { type: "string" },
  "mqtt-watch": { type: "string" },
  "mqtt-watch-ca": { type: "string" },
  "metrics-listen": { type: "string" },
  "metrics-groups": { type: "string" },
  help: { type: "boolean", short: "h" },
  version: { type: "boolean", short: "v" },
} as const;

/** argv parsed against {@link FLAGS}; a usage error naming the flag otherwise. */
function readFlags(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: FLAGS, allowPositionals: false, strict: true });
  } catch (error) {
    throw usageError(argumentProblem(error));
  }
}

/** The data folder and database that `--data` and `--db` (or IOTA_DATA, IOTA_DB) name, with their defaults. */
export function storeLocation(
  values: { data?: string | undefined; db?: string | undefined },
  env: Record<string, string | undefined>,
): { data: string; db: string } {
  const data = resolve(values.data ?? env.IOTA_DATA ?? ".iota");
  const db = values.db ?? env.IOTA_DB ?? `sqlite:${join(data, "iota.db")}`;
  if (!/^(sqlite:|postgres(ql)?:\/\/)/.test(db))
    throw usageError(
      `${values.db === undefined ? "IOTA_DB" : "--db"} must start with sqlite: or postgres:// (or postgresql://), got ${JSON.stringify(redactUrl(db))}`,
    );
  return { data, db };
}

/** Parses argv and the environment; throws a usage StartupError naming the bad flag. */
export function parseServerConfig(
  argv: string[],
  env: Record<string, string | undefined>,
): ServerConfig | "help" | "version" {
  const values = readFlags(argv).values;
  if (values.help) return "help";
  if (values.version) return "version";
  const { data, db } = storeLocation(values, env);
  const options: ServerConfig = {
    ...parseFleetOptions(
      {
        mqttWatch: values["mqtt-watch"] ?? env.IOTA_MQTT_WATCH,
        mqttWatchCa: values["mqtt-watch-ca"] ?? env.IOTA_MQTT_WATCH_CA,
        metricsListen: values["metrics-listen"] ?? env.IOTA_METRICS_LISTEN,
        metricsGroups: values["metrics-groups"] ?? env.IOTA_METRICS_GROUPS,
      },
      parseHostPort,
    ),
    data,
    listen: parseHostPort(values.listen ?? env.IOTA_LISTEN ?? "127.0.0.1:8440", "--listen"),
    db,
    tls: tlsMode(values, env),
    issueRate: {
      rate: count(
        values["issue-rate"] ?? env.IOTA_ISSUE_RATE,
        "--issue-rate",
        DEFAULT_ISSUE_RATE.rate,
      ),
      burst: count(
        values["issue-burst"] ?? env.IOTA_ISSUE_BURST,
        "--issue-burst",
        DEFAULT_ISSUE_RATE.burst,
      ),
    },
  };
  if (options.issueRate.rate > 0 && options.issueRate.burst < 1)
    throw usageError("--issue-burst must be at least 1 while --issue-rate limits requests");
  const mqtt = values["mqtt-listen"] ?? env.IOTA_MQTT_LISTEN;
  if (mqtt) options.mqttListen = parseHostPort(mqtt, "--mqtt-listen");
  if (env.IOTA_MASTER_KEY) options.masterKey = env.IOTA_MASTER_KEY;
  const proxies = values["trust-proxy"] ?? env.IOTA_TRUST_PROXY;
  if (proxies !== undefined) options.trustProxy = parseProxyList(proxies);
  return options;
}

/** The transport the flags ask for; conflicting flags are a usage error naming both. */
function tlsMode(
  values: ReturnType<typeof readFlags>["values"],
  env: Record<string, string | undefined>,
): TlsMode {
  const plain = values["plain-http"] === true || truthy(env.IOTA_PLAIN_HTTP, "IOTA_PLAIN_HTTP");
  const certFile = values["tls-cert"] ?? env.IOTA_TLS_CERT;
  const keyFile = values["tls-key"] ?? env.IOTA_TLS_KEY;
  const names = values.hostname ?? listOf(env.IOTA_HOSTNAME);
  if (plain && (certFile || keyFile))
    throw usageError("--plain-http and --tls-cert/--tls-key exclude each other: choose one");
  if (plain && names.length > 0)
    throw usageError("--hostname names the server certificate; --plain-http serves none");
  if (plain) return { kind: "plain" };
  if (certFile !== undefined || keyFile !== undefined) {
    if (!certFile) throw usageError("--tls-key needs --tls-cert FILE (the certificate chain, PEM)");
    if (!keyFile) throw usageError("--tls-cert needs --tls-key FILE (its private key, PEM)");
    if (names.length > 0)
      throw usageError(
        "--hostname names the service's own certificate; with --tls-cert the names are the operator certificate's",
      );
    return { kind: "operator", certFile: resolve(certFile), keyFile: resolve(keyFile) };
  }
  for (const name of names) {
    if (
      !isIP(name) &&
      !/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i.test(
        name,
      )
    )
      throw usageError(
        `--hostname takes a DNS name or an IP address; ${JSON.stringify(name)} is neither`,
      );
  }
  return { kind: "self", hostnames: names };
}

/** Comma-separated values of an environment variable. */
function listOf(text: string | undefined): string[] {
  return (text ?? "")
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
}

/** A boolean environment variable: 1/true/yes or 0/false/no (or unset). */
function truthy(text: string | undefined, name: string): boolean {
  if (text === undefined || text === "") return false;
  if (/^(1|true|yes)$/i.test(text)) return true;
  if (/^(0|false|no)$/i.test(text)) return false;
  throw usageError(`${name} must be 1 or 0 (true or false), got ${JSON.stringify(text)}`);
}

/** A whole number flag of at least 0, `fallback` when absent. */
function count(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value))
    throw usageError(`${flag} must be a whole number of at least 0, got ${JSON.stringify(text)}`);
  return value;
}

/** The `--trust-proxy` list: IP addresses separated by commas; throws naming the bad entry. */
export function parseProxyList(text: string): string[] {
  const entries = listOf(text);
  for (const entry of entries) {
    if (!isIP(entry))
      throw usageError(
        `--trust-proxy takes IP addresses separated by commas; ${JSON.stringify(entry)} is not one`,
      );
  }
  if (entries.length === 0) throw usageError("--trust-proxy needs at least one IP address");
  return entries;
}
