#!/usr/bin/env bun
/**
 * `npm start`: the whole IoTA system on one machine. Starts iota-server with its embedded MQTT broker,
 * creates a demo group and device, writes the device's iotad config (token only) and runs iotad
 * against them, then prints where to look. Ctrl-C stops everything.
 */

import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { deviceToken } from "../src/core/token.ts";
import { DEFAULT_SERVER } from "../src/iotactl/config.ts";
import { SERVER_RUNTIME_ENV } from "../src/iota-server/runtime-env.ts";
import type { AgentConfigInput } from "../src/core/agent-config.ts";

const root = resolve(import.meta.dir, "..");
const data = resolve(process.env.IOTA_DATA ?? ".iota");
const listen = process.env.IOTA_LISTEN ?? "127.0.0.1:8440";
const mqttListen = process.env.IOTA_MQTT_LISTEN ?? "127.0.0.1:8883";
const statusListen = process.env.IOTAD_STATUS_LISTEN ?? "127.0.0.1:7780";
const demoGroup = "demo";
const demoDevice = "demo-device-1";
const demoDir = join(data, "demo");

const children: ReturnType<typeof Bun.spawn>[] = [];
/** One watcher per program, see {@link reap}. */
const reapers: ReturnType<typeof Bun.spawn>[] = [];
let stopping = false;
/**
 * Stops the agent first (so it can announce offline to a live broker), then the service. Hint: each program
 * runs in a session of its own, so a terminal's Ctrl-C (SIGINT to the whole foreground group) reaches only this
 * launcher, which then stops them in that order.
 */
const stopAll = async (code: number) => {
  if (stopping) return;
  stopping = true;
  for (const reaper of reapers) reaper.kill("SIGKILL");
  for (const child of [...children].reverse()) {
    child.kill("SIGTERM");
    await Promise.race([child.exited, Bun.sleep(15_000)]);
  }
  process.exit(code);
};
process.on("SIGINT", () => void stopAll(0));
process.on("SIGTERM", () => void stopAll(0));
// Hint: a closed terminal hangs up only this launcher now; its programs go with it, as does any other end of it.
process.on("SIGHUP", () => void stopAll(0));
process.on("exit", () => {
  for (const reaper of reapers) reaper.kill("SIGKILL");
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
});

/**
 * Watches over `child` for the case no handler sees: this launcher killed outright (SIGKILL, the OOM killer). A
 * shell in a session of its own polls both once a second and stops the program once the launcher is gone, so
 * it does not go on holding its ports and data folder. It ends with the program, and a launcher that stops
 * normally kills it first.
 */
function reap(child: ReturnType<typeof Bun.spawn>): void {
  const watch = `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 1; done
kill -0 ${process.pid} 2>/dev/null || kill -TERM ${child.pid} 2>/dev/null`;
  const reaper = Bun.spawn(["sh", "-c", watch], {
    detached: true,
    stdin: "ignore",
    stdout: "ignore",
    stderr: "ignore",
  });
  reaper.unref();
  reapers.push(reaper);
}

function fail(message: string): never {
  process.stderr.write(`start: ${message}\n`);
  // Hint: the throw below ends this process at once; the children must not outlive it.
  for (const child of children) child.kill("SIGTERM");
  process.exit(1);
}

/** Starts a program and resolves with its first stdout line matching `ready`; its stderr goes to `logFile`. */
async function startProgram(
  name: string,
  args: string[],
  ready: RegExp,
  logFile: string,
  env: Readonly<Record<string, string>> = {},
): Promise<string> {
  const child = Bun.spawn([process.execPath, ...args], {
    cwd: root,
    env: { ...env, ...process.env },
    detached: true,
    stdout: "pipe",
    stderr: Bun.file(logFile),
    stdin: "ignore",
  });
  children.push(child);
  reap(child);
  const reader = child.stdout.getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done)
      fail(`${name} exited before it was ready (exit ${await child.exited}); see ${logFile}`);
    text += new TextDecoder().decode(value);
    const match = ready.exec(text);
    if (match) {
      void (async () => {
        while (!(await reader.read()).done);
      })();
      return text;
    }
  }
}

async function api(
  base: string,
  token: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  const init: BunFetchRequestInit = {
    method,
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    // Hint: the demo trusts the service's own server CA, and only it, as its devices do.
    tls: { ca: serverCaPem },
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  return await fetch(`${base}${path}`, init);
}

mkdirSync(demoDir, { recursive: true, mode: 0o700 });
const serverOut = await startProgram(
  "iota-server",
  ["src/iota-server/main.ts", "--data", data, "--listen", listen, "--mqtt-listen", mqttListen],
  /mqtt broker: (\S+)/,
  join(data, "iota-server.log"),
  // Hint: as the packaged service runs it (src/iota-server/runtime-env.ts).
  SERVER_RUNTIME_ENV,
);
const apiUrl =
  /listening on (\S+)/.exec(serverOut)?.[1] ?? fail("iota-server did not print its address");
const brokerUrl =
  /mqtt broker: (\S+)/.exec(serverOut)?.[1] ?? fail("iota-server did not print its broker address");
const adminToken = readFileSync(join(data, "admin-token"), "utf8").trim();
const fingerprint = /SHA-256 fingerprint ([0-9A-F:]+)/.exec(serverOut)?.[1] ?? "";
// The service's own server CA: the demo's tools and device trust it, and only it.
const serverCaPem = readFileSync(join(data, "server-ca.pem"), "utf8");

// The demo group's secret is shown once, at creation; keep it (0600) so later starts can write the same config.
const secretFile = join(demoDir, "group-secret");
if (!existsSync(secretFile)) {
  const created = await api(apiUrl, adminToken, "POST", "/v1/groups", {
    name: demoGroup,
    validity: "10m",
  });
  const rotated =
    created.status === 409
      ? await api(apiUrl, adminToken, "POST", `/v1/groups/${demoGroup}/secret`)
      : created;
  if (!rotated.ok)
    fail(`could not create the demo group: ${rotated.status} ${await rotated.text()}`);
  const { provisioningSecret } = (await rotated.json()) as { provisioningSecret: string };
  writeFileSync(secretFile, `${provisioningSecret}\n`, { mode: 0o600 });
}
const secret = readFileSync(secretFile, "utf8").trim();
const device = await api(apiUrl, adminToken, "POST", `/v1/groups/${demoGroup}/devices`, {
  name: demoDevice,
});
if (!device.ok && device.status !== 409)
  fail(`could not create the demo device: ${device.status} ${await device.text()}`);

const config: AgentConfigInput = {
  server: apiUrl,
  // Hint: the device pins the server CA; the embedded broker presents a certificate of the same CA.
  serverCa: serverCaPem,
  group: demoGroup,
  device: demoDevice,
  token: deviceToken(secret, demoGroup, demoDevice),
  dataDir: join(demoDir, "iotad"),
  statusListen,
  mqtt: { url: brokerUrl, ca: serverCaPem },
};
const configFile = join(demoDir, "iotad.json");
writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });

const agentLog = join(data, "iotad.log");
const agent = Bun.spawn([process.execPath, "src/iotad/main.ts", "run", "--config", configFile], {
  cwd: root,
  stdout: Bun.file(agentLog),
  stderr: Bun.file(agentLog),
  stdin: "ignore",
});
children.push(agent);
reap(agent);
const statusUrl = `http://${statusListen}`;
for (let i = 0; ; i++) {
  // Ready means provisioned and announced: a valid certificate and a connected broker session.
  const status = await fetch(`${statusUrl}/status`).then(
    (r) => r.json() as Promise<{ state?: string; mqtt?: { state?: string } }>,
    () => undefined,
  );
  if (status?.state === "ready" && status.mqtt?.state === "connected") break;
  if (agent.exitCode !== null) fail(`iotad exited (${agent.exitCode}); see ${agentLog}`);
  if (i > 300) fail(`iotad did not become ready within a minute; see ${agentLog}`);
  await Bun.sleep(200);
}

// Hint: iotactl finds the default service's .iota from its folder and below; anywhere else, one configure.
const configure = `iotactl configure --server ${apiUrl} --ca-file ${join(data, "server-ca.pem")} --token-file ${join(data, "admin-token")}`;
const iotactlHint =
  apiUrl === DEFAULT_SERVER && resolve(data) === resolve(".iota")
    ? `finds this service in ${process.cwd()} and the folders below it; elsewhere, once:\n              ${configure}`
    : `once: ${configure}`;

process.stdout.write(`
IoTA is running on this machine, over HTTPS with its own trust:
  API         ${apiUrl}   (admin token in ${join(data, "admin-token")}; OpenAPI at ${apiUrl}/v1/openapi.json)
  dashboard   ${apiUrl}/ui/   (sign in with the admin token; the browser must trust the server CA)
  server CA   ${join(data, "server-ca.pem")}   (SHA-256 fingerprint ${fingerprint})
              try: curl --cacert ${join(data, "server-ca.pem")} ${apiUrl}/v1/ca
  MQTT broker ${brokerUrl}   (mutual TLS: its certificate is from the server CA, devices use their own)
  device      ${demoGroup}/${demoDevice}, run by iotad with ${configFile}
  status      ${statusUrl}/status   (try: curl ${statusUrl}/healthz)
  logs        ${join(data, "iota-server.log")}, ${agentLog}
  iotactl     ${iotactlHint}

Certificates of the demo group live 10 minutes, so iotad renews every few minutes. Ctrl-C stops everything.
`);
