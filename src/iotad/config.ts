/** The agent's settings: the config file, validated, with secrets and CA files read and paths resolved. */

import { jsonErrorPlace } from "../core/json-error-place.ts";
import { dirname, isAbsolute, resolve } from "node:path";
import * as v from "valibot";
import { AgentConfigSchema, type AgentConfig } from "../core/agent-config.ts";
import { fieldErrors } from "../core/validate.ts";
import type { RenewalPolicy } from "../core/renewal.ts";
import { type DeviceNaming, type HostPaths, nameDevice } from "./device-naming.ts";

/** Everything the agent needs, checked before any key is made or any socket opened. */
export interface AgentSettings {
  /** The config file these came from (absolute). */
  configPath: string;
  server: string;
  /** The CA (PEM) an https server must chain to; the system roots when absent. Never both. */
  serverCa?: string;
  /** `"insecureHttp": true`: a plain http:// server beyond loopback was allowed by the operator. */
  insecureHttp: boolean;
  tenant?: string;
  group: string;
  /** The device's name: the config's literal name, or the one its hardware source gives (pinned once provisioned). */
  device: string;
  /** How the name came from the hardware, when the config names a source instead of a name. */
  naming?: DeviceNaming;
  /** The credential for provisioning (never logged or shown). */
  credential: { kind: "token" | "secret"; value: string };
  /** Absolute data folder. */
  dataDir: string;
  statusListen: { host: string; port: number };
  renewal: RenewalPolicy;
  /** The broker; `ca` is `mqtt.ca`/`mqtt.caFile`, else `serverCa` (absent: the system roots). */
  mqtt?: { url: string; ca?: string; topicPrefix: string };
  afterRenew?: string;
}

/** The outcome of loading a config file: settings, or errors each naming the file and field. */
export type SettingsResult =
  | { ok: true; settings: AgentSettings }
  | { ok: false; errors: string[] };

/** Reads a file's text; throws a Node.js error (ENOENT, EACCES...) when it cannot. */
export type ReadText = (path: string) => string;

/**
 * Loads and checks the config file at `path` (relative to `cwd`). A device source is read from the host
 * (`host.sysfs` for mac: and dmi:) and the data folder's pin.
 */
export function loadSettings(
  path: string,
  read: ReadText,
  cwd: string,
  host: HostPaths,
): SettingsResult {
  const file = resolve(cwd, path);
  let text: string;
  try {
    text = read(file);
  } catch (error) {
    return {
      ok: false,
      errors: [`${file}: cannot read the config file: ${describeReadError(error)}`],
    };
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    const place = jsonErrorPlace(text);
    const where = place === undefined ? "" : ` at line ${place.line}, column ${place.column}`;
    return {
      ok: false,
      errors: [`${file}: is not valid JSON${where}: ${(error as Error).message}`],
    };
  }
  const parsed = v.safeParse(AgentConfigSchema, json);
  if (!parsed.success) {
    return { ok: false, errors: parsed.issues.map((issue) => `${file}: ${describeIssue(issue)}`) };
  }
  return resolveSettings(file, parsed.output, read, host);
}

/** Cross-field checks and file reads that the schema cannot do. */
function resolveSettings(
  file: string,
  config: AgentConfig,
  read: ReadText,
  host: HostPaths,
): SettingsResult {
  const errors: string[] = [];
  const base = dirname(file);
  const at = (p: string) => (isAbsolute(p) ? p : resolve(base, p));
  const readField = (field: string, p: string): string | undefined => {
    try {
      const value = read(at(p)).trim();
      if (value === "") errors.push(`${file}: field "${field}": ${at(p)} is empty`);
      return value;
    } catch (error) {
      errors.push(`${file}: field "${field}": cannot read ${at(p)}: ${describeReadError(error)}`);
      return undefined;
    }
  };
  const listen = parseListen(config.statusListen);
  if (!listen)
    errors.push(
      `${file}: field "statusListen": must be HOST:PORT with a port from 0 to 65535, got ${JSON.stringify(config.statusListen)}`,
    );

  let credential: AgentSettings["credential"] | undefined;
  if (config.token !== undefined) credential = { kind: "token", value: config.token };
  else if (config.secret !== undefined) credential = { kind: "secret", value: config.secret };
  else if (config.tokenFile !== undefined)
    credential = fromFile("token", readField("tokenFile", config.tokenFile));
  else if (config.secretFile !== undefined)
    credential = fromFile("secret", readField("secretFile", config.secretFile));

  let mqtt: AgentSettings["mqtt"];
  if (config.mqtt) {
    if (config.mqtt.ca !== undefined && config.mqtt.caFile !== undefined)
      errors.push(`${file}: field "mqtt.caFile": give either mqtt.ca or mqtt.caFile, not both`);
    const ca =
      config.mqtt.ca ??
      (config.mqtt.caFile !== undefined ? readField("mqtt.caFile", config.mqtt.caFile) : undefined);
    if (
      ca !== undefined &&
      config.mqtt.caFile !== undefined &&
      !ca.includes("-----BEGIN CERTIFICATE-----")
    ) {
      errors.push(
        `${file}: field "mqtt.caFile": ${at(config.mqtt.caFile)} holds no PEM certificate`,
      );
    }
    mqtt = { url: config.mqtt.url, topicPrefix: config.mqtt.topicPrefix.replace(/\/+$/, "") };
    // Hint: a broker of the same deployment presents a certificate from the server CA, so the device's
    // one pinned trust covers both; only an explicit mqtt.ca / mqtt.caFile says otherwise.
    const trust = ca ?? config.serverCa;
    if (trust !== undefined) mqtt.ca = trust;
  }
  let device = typeof config.device === "string" ? config.device : undefined;
  let naming: DeviceNaming | undefined;
  if (typeof config.device !== "string") {
    const named = nameDevice(config.device, read, base, host, at(config.dataDir));
    if (named.ok) {
      device = named.name;
      naming = named.naming;
    } else errors.push(`${file}: field "device.from": ${named.problem}`);
  }
  if (errors.length > 0 || !listen || !credential || device === undefined)
    return { ok: false, errors };

  const settings: AgentSettings = {
    configPath: file,
    server: config.server,
    insecureHttp: config.insecureHttp,
    group: config.group,
    device,
    credential,
    dataDir: at(config.dataDir),
    statusListen: listen,
    renewal: config.renewal,
  };
  if (config.serverCa !== undefined) settings.serverCa = config.serverCa;
  if (naming !== undefined) settings.naming = naming;
  if (config.tenant !== undefined) settings.tenant = config.tenant;
  if (mqtt) settings.mqtt = mqtt;
  if (config.afterRenew !== undefined) settings.afterRenew = config.afterRenew;
  return { ok: true, settings };
}

function fromFile(
  kind: "token" | "secret",
  value: string | undefined,
): AgentSettings["credential"] | undefined {
  return value === undefined || value === "" ? undefined : { kind, value };
}

/** `HOST:PORT` (IPv6 in brackets; an empty host means every interface). */
export function parseListen(text: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(text);
  const port = Number(match?.[3]);
  if (!match || port > 65535) return undefined;
  return { host: match[1] ?? (match[2] || "0.0.0.0"), port };
}

function describeReadError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "is a folder, not a file";
  return (error as Error).message;
}

/** `field "mqtt.url": must be a URL`, saying "is required" for a missing field. */
function describeIssue(issue: v.BaseIssue<unknown>): string {
  const field = fieldErrors([issue])[0]?.field ?? "(body)";
  const where = field === "(body)" ? "the top level" : `field "${field}"`;
  const missing = issue.kind === "schema" && issue.received === "undefined";
  // Hint: valibot reports a missing key with its object's message (about unknown fields), not the key's own.
  const objectLevel = /object$/.test(issue.type);
  if (missing && objectLevel) return `${where}: is required`;
  return `${where}: ${missing ? `is required; it ${issue.message}` : issue.message}`;
}
