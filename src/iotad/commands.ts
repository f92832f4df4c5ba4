/** The actions of the `iotad` commands: each returns its exit status; results go to stdout, messages to stderr. */

import { isPlainHttpBeyondLoopback, PLAIN_HTTP_RISK } from "../core/plain-http.ts";
import { VERSION } from "../core/version.ts";
import { describeFailure } from "./agent-messages.ts";
import type { AttemptResult } from "./agent-state.ts";
import { runAfterRenew } from "./after-renew.ts";
import { buildAgent } from "./build-agent.ts";
import { namingWarning } from "./device-naming.ts";
import { pinHeldName } from "./device-pin.ts";
import { type Invocation, USAGE } from "./cli.ts";
import { runDaemon } from "./daemon.ts";
import { EXIT, exitCodeFor } from "./exit-codes.ts";
import { type Logger, streamLogger } from "./logger.ts";
import { dataFolderCheck, dataFolderProblem } from "./data-folder.ts";
import { dataFolderOwnerProblem } from "./held-owner.ts";
import { lockNote, withDataLock } from "./locked-command.ts";
import type { Runtime } from "./runtime.ts";
import { type AgentSettings, loadSettings } from "./config.ts";
import type { StatusBody } from "./status-app.ts";

/** Runs a parsed command line. */
export async function runCommand(invocation: Invocation, runtime: Runtime): Promise<number> {
  if (invocation.kind === "help") {
    runtime.stdout(USAGE);
    return EXIT.ok;
  }
  if (invocation.kind === "error") {
    runtime.stderr(`iotad: ${invocation.message}\n`);
    return EXIT.usage;
  }
  if (invocation.command === "version") {
    runtime.stdout(`iotad ${VERSION}\n`);
    return EXIT.ok;
  }
  const loaded = loadSettings(invocation.config, runtime.readText, runtime.cwd, runtime.host);
  if (!loaded.ok) {
    for (const error of loaded.errors) runtime.stderr(`iotad: ${error}\n`);
    return EXIT.usage;
  }
  const settings = loaded.settings;
  const log = streamLogger(runtime.stderr, () => runtime.clock.now());
  if (invocation.command !== "status" && isPlainHttpBeyondLoopback(settings.server))
    log.warn(`"insecureHttp": true allows ${settings.server}: ${PLAIN_HTTP_RISK}`);
  switch (invocation.command) {
    case "check-config": {
      const problem =
        dataFolderCheck(settings.dataDir) ??
        dataFolderOwnerProblem(runtime.readText, settings.dataDir, settings);
      if (problem !== undefined) {
        runtime.stderr(`iotad: ${settings.configPath}: ${problem}\n`);
        return EXIT.local;
      }
      runtime.stdout(
        `${settings.configPath}: OK (${settings.group}/${settings.device} at ${settings.server}${trustNote(settings)}, data in ${settings.dataDir})\n${namingNote(settings)}${lockNote(settings, runtime)}`,
      );
      return EXIT.ok;
    }
    case "run":
    case "provision":
    case "renew": {
      const problem = dataFolderCheck(settings.dataDir);
      if (problem !== undefined) {
        log.error(problem);
        return EXIT.local;
      }
      const { command, json } = invocation;
      try {
        return command === "run"
          ? await withDataLock(command, settings, runtime, log, () =>
              runDaemon(settings, runtime, log),
            )
          : await oneShot(command, json, settings, runtime, log);
      } catch (error) {
        // Hint: the check above passed, so this is the data folder changing under the agent (or a full disk).
        const failure = dataFolderProblem(error, settings.dataDir);
        if (failure === undefined) throw error;
        log.error(failure);
        return EXIT.local;
      }
    }
    case "status":
      return await showStatus(settings, invocation.json, runtime);
  }
}

/**
 * `iotad provision` or `iotad renew`: one attempt, its result on stdout. Hint: the data folder's lock is what
 * excludes a second process; the status address is asked first only for its better advice to an agent at rest.
 */
async function oneShot(
  command: "provision" | "renew",
  json: boolean,
  settings: AgentSettings,
  runtime: Runtime,
  log: Logger,
): Promise<number> {
  // Hint: a read-only look, as check-config's, so another device's folder is named even while an agent holds it.
  const foreign = dataFolderOwnerProblem(runtime.readText, settings.dataDir, settings);
  if (foreign !== undefined) {
    runtime.stderr(`iotad: ${foreign}\n`);
    return EXIT.local;
  }
  const running = await runningAgent(settings, runtime);
  if (running !== undefined) {
    runtime.stderr(
      `iotad: an agent is running for ${settings.group}/${settings.device} (status at ${running}); a second process would replace the certificate it holds. To ${command} now, send it SIGHUP (\`systemctl reload iotad\`, or \`kill -HUP\` its process)\n`,
    );
    return EXIT.local;
  }
  return await withDataLock(command, settings, runtime, log, async () => {
    const { agent, store } = buildAgent(settings, runtime, log);
    const result = command === "provision" ? await agent.provisionOnce() : await agent.renewOnce();
    if (result.ok) pinHeldName(settings, runtime.disk, log);
    report(result, settings, json, runtime);
    if (result.ok && command === "renew" && settings.afterRenew !== undefined)
      await runAfterRenew(
        settings.afterRenew,
        store.paths,
        result.identity.serial,
        runtime.env,
        log,
      );
    return exitCodeFor(result);
  });
}

/**
 * For a device named by its hardware, the line `check-config` adds: the name, its source, and a name
 * pinned at provisioning that the source no longer gives.
 */
function namingNote(settings: AgentSettings): string {
  const { naming } = settings;
  if (naming === undefined) return "";
  const prefix = naming.prefix === "" ? "" : ` with prefix ${JSON.stringify(naming.prefix)}`;
  const where =
    naming.pinned !== null
      ? `pinned in ${settings.dataDir} when provisioned (source ${naming.from}${prefix})`
      : `from ${naming.from}${prefix}`;
  const warning = namingWarning(naming);
  return `device name: ${settings.device}, ${where}\n${warning === undefined ? "" : `warning: ${warning}\n`}`;
}

/** `, trusting serverCa only` or `, trusting the system roots` for an https server. */
function trustNote(settings: AgentSettings): string {
  if (!settings.server.startsWith("https:")) return "";
  return settings.serverCa !== undefined
    ? ", trusting serverCa only"
    : ", trusting the system roots";
}

function report(
  result: AttemptResult,
  settings: AgentSettings,
  json: boolean,
  runtime: Runtime,
): void {
  if (!result.ok) {
    runtime.stderr(`iotad: ${describeFailure(result.failure)}\n`);
    return;
  }
  const id = result.identity;
  const body = {
    group: settings.group,
    device: settings.device,
    serial: id.serial,
    notBefore: new Date(id.notBefore).toISOString(),
    notAfter: new Date(id.notAfter).toISOString(),
    certificate: `${settings.dataDir}/cert.pem`,
  };
  runtime.stdout(
    json
      ? `${JSON.stringify(body)}\n`
      : `certificate ${body.serial} for ${body.group}/${body.device}, valid until ${body.notAfter} (${body.certificate})\n`,
  );
}

/** The running agent's status URL, as this config places it. */
function statusUrl(settings: AgentSettings): string {
  const { host, port } = settings.statusListen;
  const local = host === "0.0.0.0" ? "127.0.0.1" : host === "::" ? "::1" : host;
  return `http://${local.includes(":") ? `[${local}]` : local}:${port}/status`;
}

/**
 * The status URL of an agent running for this config's device, if one answers there. Hint: `iotad run` and
 * a one-shot `provision`/`renew` share the data folder; a one-shot that replaced the key and certificate
 * under a running agent left it holding a certificate the service no longer renews.
 */
async function runningAgent(
  settings: AgentSettings,
  runtime: Runtime,
): Promise<string | undefined> {
  const url = statusUrl(settings);
  try {
    const answer = await runtime.transport()({
      method: "GET",
      url,
      headers: { accept: "application/json" },
    });
    if (answer.status !== 200) return undefined;
    const status = JSON.parse(answer.body) as Partial<StatusBody>;
    return status.group === settings.group && status.device === settings.device ? url : undefined;
  } catch {
    return undefined;
  }
}

/** `iotad status`: asks the running agent; 0 when it holds a valid certificate. */
async function showStatus(
  settings: AgentSettings,
  json: boolean,
  runtime: Runtime,
): Promise<number> {
  const url = statusUrl(settings);
  let status: StatusBody;
  try {
    const answer = await runtime.transport()({
      method: "GET",
      url,
      headers: { accept: "application/json" },
    });
    if (answer.status !== 200) throw new Error(`answered ${answer.status}`);
    status = JSON.parse(answer.body) as StatusBody;
  } catch (error) {
    runtime.stderr(
      `iotad: the agent's status endpoint ${url} is not reachable (${(error as Error).message}); is \`iotad run\` running?\n`,
    );
    return EXIT.unreachable;
  }
  runtime.stdout(json ? `${JSON.stringify(status, null, 2)}\n` : humanStatus(status));
  return status.certificateValid ? EXIT.ok : EXIT.noCertificate;
}

function humanStatus(s: StatusBody): string {
  const rows: [string, string | number | null | undefined][] = [
    ["state", s.attempt !== undefined ? `${s.state} (attempt ${s.attempt})` : s.state],
    ["device", `${s.tenant !== undefined ? `${s.tenant}/` : ""}${s.group}/${s.device}`],
    [
      "name source",
      s.deviceSource
        ? `${s.deviceSource.from}${s.deviceSource.warning ? ` (warning: ${s.deviceSource.warning})` : ""}`
        : null,
    ],
    ["serial", s.serial],
    ["valid", s.notBefore && s.notAfter ? `${s.notBefore} .. ${s.notAfter}` : null],
    ["next renewal", s.nextRenewal],
    ["last renewal", s.lastRenewal],
    ["renewals", `${s.renewals} ok, ${s.renewalFailures} failed`],
    ["last error", s.lastError ? `${s.lastError} (${s.lastErrorAt})` : null],
    [
      "clock skew",
      s.clockSkewMs === null
        ? null
        : `${(s.clockSkewMs / 1000).toFixed(1)} s (service minus local)`,
    ],
    [
      "mqtt",
      `${s.mqtt.state}${s.mqtt.topic ? ` ${s.mqtt.topic}` : ""}${s.mqtt.lastError ? ` (last error: ${s.mqtt.lastError})` : ""}`,
    ],
    ["version", s.version],
  ];
  return rows
    .filter(([k, v]) => k !== "name source" || v !== null)
    .map(([k, v]) => `${`${k}:`.padEnd(14)}${v ?? "-"}\n`)
    .join("");
}
