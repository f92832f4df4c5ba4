/** `iotactl gen config`: one iotad configuration per device, holding its device token and never the group secret. */

import { join, resolve } from "node:path";
import * as v from "valibot";
import { AgentConfigSchema, type AgentConfigInput } from "../../core/agent-config.ts";
import { deviceToken } from "../../core/token.ts";
import type { Command, CommandContext } from "../command.ts";
import { FROM_FILE_FLAG, GROUP_FLAG, checkName, groupFlag, stringFlag } from "../flags.ts";
import { usageError } from "../exit-codes.ts";
import { fileProblem } from "../io.ts";
import { dedupe, readNameList } from "../names-input.ts";
import { readSecretFile, readSecretStdin } from "../secrets.ts";
import { printJson } from "../output.ts";
import { readCaFile } from "../config.ts";
import { checkServerUrl, sameServer } from "../server-url.ts";
import { isPlainHttpBeyondLoopback, PLAIN_HTTP_RISK } from "../../core/plain-http.ts";

/** Everything but the device name and token, checked once before any file is written. */
type Template = Omit<AgentConfigInput, "device" | "token">;

function template(ctx: CommandContext, group: string): Template {
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
};

/** Checks a config with the agent's own schema; a usage error naming the flag otherwise. */
function checkConfig(config: AgentConfigInput): void {
  const result = v.safeParse(AgentConfigSchema, config);
  if (result.success) return;
  const issue = result.issues[0];
  const field = issue?.path?.map((p) => String(p.key)).join(".") ?? "config";
  throw usageError(`${FLAG_OF[field] ?? field} ${issue?.message ?? "is invalid"}`);
}

/** The `gen config` command. */
export const genConfig: Command = {
  words: ["gen", "config"],
  summary: "write one iotad config per device (device token, no group secret)",
  usage:
    "gen config -g GROUP (NAME... | --from-file FILE) (--secret-file F | --secret -) [--out DIR]",
  description: `Writes DIR/<device>.json (mode 0600) for every device: an iotad configuration holding the
server URL, group, device and its device token. The token is derived from the group's
provisioning secret here, offline; the secret itself is never written, so a device taken apart
reveals nothing about its siblings. Copy each file to /etc/iotad/config.json on its device.
The secret comes from --secret-file (e.g. the seed's prov_secret.txt) or stdin (--secret -).

For an https server, each config gets "serverCa", the only CA the device trusts for the server
(and its MQTT broker unless --mqtt-ca): --server-ca FILE when given, else the CA pinned for the
server iotactl talks to (iotactl configure --fingerprint), when --server-url is that same server.
For another https URL without --server-ca, devices use their system roots (a warning says so).
A plain http:// server beyond loopback is refused unless --insecure, which writes
"insecureHttp": true into each config.`,
  flags: [
    GROUP_FLAG,
    FROM_FILE_FLAG,
    {
      name: "secret-file",
      type: "string",
      value: "FILE",
      help: "the group's provisioning secret (e.g. prov_secret.txt)",
    },
    {
      name: "secret",
      type: "string",
      value: "-",
      help: 'read the provisioning secret from stdin (only "-" is accepted)',
    },
    {
      name: "out",
      short: "o",
      type: "string",
      value: "DIR",
      help: "where to write <device>.json (default: the current folder; created 0700)",
    },
    {
      name: "server-url",
      type: "string",
      value: "URL",
      help: "the server URL the devices use (default: the one iotactl uses)",
    },
    {
      name: "server-ca",
      type: "string",
      value: "FILE",
      help: "the CA (PEM) devices pin for --server-url (default: the CA pinned for iotactl's server, when it is the same server)",
    },
    {
      name: "mqtt-url",
      type: "string",
      value: "URL",
      help: "MQTT broker for readiness messages (mqtts://host:8883)",
    },
    {
      name: "mqtt-ca",
      type: "string",
      value: "FILE",
      help: "the broker's server CA (PEM), embedded in each config",
    },
    {
      name: "status-listen",
      type: "string",
      value: "HOST:PORT",
      help: "iotad's status endpoint (default 127.0.0.1:7780)",
    },
    {
      name: "data-dir",
      type: "string",
      value: "DIR",
      help: "where iotad keeps key and certificate (default /var/lib/iotad)",
    },
  ],
  examples: [
    "iotactl gen config -g room2-lights --from-file device_names.txt --secret-file prov_secret.txt --out configs",
    "iotactl gen config -g room2-lights test-device-1 test-device-2 --secret - --out configs < prov_secret.txt",
    "iotactl gen config -g room2-lights -f device_names.txt --secret-file prov_secret.txt \\\n      --server-url https://iota.example.com --mqtt-url mqtts://broker.example.com:8883 --mqtt-ca broker-ca.pem",
  ],
  async run(ctx) {
    const group = groupFlag(ctx.args);
    const file = stringFlag(ctx.args, "from-file");
    const secretFile = stringFlag(ctx.args, "secret-file");
    const secretFlag = stringFlag(ctx.args, "secret");
    if (file !== undefined && ctx.args.positionals.length > 0)
      throw usageError("give device names or --from-file, not both");
    if (file === undefined && ctx.args.positionals.length === 0)
      throw usageError("give device names or --from-file FILE");
    if (secretFlag !== undefined && secretFlag !== "-") {
      throw usageError(
        '--secret only accepts "-" (read from stdin), so the secret never appears in the process list; or use --secret-file FILE',
      );
    }
    if ((secretFile === undefined) === (secretFlag === undefined))
      throw usageError("give exactly one of --secret-file FILE and --secret -");
    if (file === "-" && secretFlag === "-")
      throw usageError("--from-file - and --secret - cannot both read stdin; put one in a file");
    const out = resolve(ctx.io.cwd, stringFlag(ctx.args, "out") ?? ".");
    const base = template(ctx, group);
    checkConfig({ ...base, device: "x", token: "x" });
    const listed = file === undefined ? ctx.args.positionals : await readNameList(ctx.io, file);
    const { names, duplicates } = dedupe(listed);
    if (names.length === 0) throw usageError(`${file} holds no device names`);
    for (const name of names) checkName(name, `device name (${file ?? "argument"})`);
    if (duplicates > 0) ctx.console.warn(`${duplicates} repeated names ignored`);
    const secret =
      secretFile !== undefined
        ? readSecretFile(ctx.io, secretFile, "--secret-file")
        : await readSecretStdin(ctx.io, "the provisioning secret");
    ctx.io.files.mkdir(out, 0o700);
    const written: string[] = [];
    for (const device of names) {
      const config: AgentConfigInput = {
        ...base,
        device,
        token: deviceToken(secret, group, device),
      };
      const path = join(out, `${device}.json`);
      ctx.io.files.writeFile(path, `${JSON.stringify(config, null, 2)}\n`, 0o600);
      written.push(path);
    }
    if (ctx.json) printJson(ctx.io, { dir: out, files: written });
    else ctx.io.stdout.write(`${out}\n`);
    ctx.console.info(
      `Wrote ${written.length} iotad configs to ${out}; copy each <device>.json to /etc/iotad/config.json on its device.`,
    );
    return 0;
  },
};
