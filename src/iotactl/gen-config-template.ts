/** The parts of every config `iotactl gen config` writes besides the device and its credential, checked from the flags. */

import { resolve } from "node:path";
import * as v from "valibot";
import { AgentConfigSchema, type AgentConfigInput } from "../core/agent-config.ts";
import { isPlainHttpBeyondLoopback, PLAIN_HTTP_RISK } from "../core/plain-http.ts";
import type { CommandContext } from "./command.ts";
import { readCaFile } from "./config.ts";
import { usageError } from "./exit-codes.ts";
import { stringFlag } from "./flags.ts";
import { fileProblem } from "./io.ts";
import { checkServerUrl, sameServer } from "./server-url.ts";

/** Everything but the device name and token, checked once before any file is written. */
export type Template = Omit<AgentConfigInput, "device" | "token">;

/** The template from the flags and iotactl's settings; usage errors name the flag. */
export function configTemplate(ctx: CommandContext, group: string): Template {
  const settings = ctx.settings();
  const serverUrl = stringFlag(ctx.args, "server-url");
  const server =
    serverUrl === undefined ? settings.server : checkServerUrl(serverUrl, "--server-url");
  const t: Template = { server, group };
  if (isPlainHttpBeyondLoopback(server)) {
    const source =
      serverUrl === undefined
        ? `the server iotactl uses, from ${settings.serverSource}`
        : "--server-url";
    if (!ctx.insecure)
      throw usageError(
        `refusing ${server} (${source}) for devices: ${PLAIN_HTTP_RISK}; use https://, or give --insecure to write "insecureHttp": true into each config`,
      );
    t.insecureHttp = true;
    ctx.console.warn(
      `writing "insecureHttp": true: devices send their tokens to ${server} in clear text`,
    );
  }
  const serverCa = serverTrust(ctx, server, settings);
  if (serverCa !== undefined) t.serverCa = serverCa;
  const mqttUrl = stringFlag(ctx.args, "mqtt-url");
  const mqttCa = stringFlag(ctx.args, "mqtt-ca");
  if (mqttCa !== undefined && mqttUrl === undefined)
    throw usageError("--mqtt-ca goes with --mqtt-url URL");
  if (mqttUrl !== undefined) {
    t.mqtt = { url: mqttUrl };
    if (mqttCa !== undefined) {
      try {
        t.mqtt.ca = ctx.io.files.readText(resolve(ctx.io.cwd, mqttCa));
      } catch (error) {
        throw usageError(`--mqtt-ca ${mqttCa}: ${fileProblem(error)}`);
      }
    }
  }
  const statusListen = stringFlag(ctx.args, "status-listen");
  const dataDir = stringFlag(ctx.args, "data-dir");
  if (statusListen !== undefined) t.statusListen = statusListen;
  if (dataDir !== undefined) t.dataDir = dataDir;
  return t;
}

/**
 * The `serverCa` devices get: `--server-ca FILE`; else, for the server iotactl itself talks to, the CA
 * pinned for it (devices then trust exactly what iotactl trusts); else none, and the devices verify
 * the server against their system roots (right for a server with a public certificate).
 */
function serverTrust(
  ctx: CommandContext,
  server: string,
  settings: ReturnType<CommandContext["settings"]>,
): string | undefined {
  const file = stringFlag(ctx.args, "server-ca");
  if (server.startsWith("http:")) {
    if (file !== undefined)
      throw usageError(`--server-ca goes with an https server; ${server} is plain http`);
    return undefined;
  }
  if (file !== undefined) return readCaFile(ctx.io, file, "--server-ca");
  if (sameServer(server, settings.server)) return settings.ca;
  ctx.console.warn(
    `devices will verify ${server} against their system roots: the CA pinned for ${settings.server} is kept for that server only; give --server-ca FILE if ${server} has a certificate from a private CA`,
  );
  return undefined;
}

/** Which flag each config field comes from, so a schema complaint names what the user typed. */
const FLAG_OF: Record<string, string> = {
  server: "--server-url",
  serverCa: "--server-ca",
  "mqtt.url": "--mqtt-url",
  "mqtt.ca": "--mqtt-ca",
  statusListen: "--status-listen",
  dataDir: "--data-dir",
  "device.from": "--device-from",
  "device.prefix": "--prefix",
};

/** Checks a config with the agent's own schema; a usage error naming the flag otherwise. */
export function checkConfig(config: AgentConfigInput): void {
  const result = v.safeParse(AgentConfigSchema, config);
  if (result.success) return;
  const issue = result.issues[0];
  const field = issue?.path?.map((p) => String(p.key)).join(".") ?? "config";
  throw usageError(`${FLAG_OF[field] ?? field} ${issue?.message ?? "is invalid"}`);
}
