/** End to end: the compiled iotad binary against a real iota-server process and a TLS MQTT broker. */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { X509Certificate } from "node:crypto";
import mqtt from "mqtt";
import { deviceToken } from "../src/core/token.ts";
import { startTestBroker, type TestBroker } from "./helpers/mqtt-test-broker.ts";
import { startServerProcess, type ServerProcess } from "./helpers/server-process.ts";
import { freePort } from "./helpers/free-port.ts";

const ROOT = resolve(import.meta.dir, "..");
const BUN = process.execPath;
const tmp = mkdtempSync(join(tmpdir(), "iotad-e2e-"));
const bin = join(tmp, "iotad");
const config = join(tmp, "config.json");
const hookLog = join(tmp, "hook.log");
// Hint: a fixed address, as a device's config has (`iotad status` reads it there); one the OS had free.
const statusPort = await freePort();
const status = `http://127.0.0.1:${statusPort}`;
let server: ServerProcess | undefined;
let broker: TestBroker;
let agent: ChildProcess;
let agentLog = "";
let secret = "";
let token = "";
const messages: { topic: string; payload: Record<string, unknown>; retain: boolean }[] = [];
let subscriber: mqtt.MqttClient | undefined;

async function startServer(port = 0): Promise<ServerProcess> {
  return await startServerProcess({ tls: true, data: join(tmp, "server"), port });
}

async function stopServer(): Promise<void> {
  const s = server;
  server = undefined;
  await s?.stop();
}

async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  limitMs = 60_000,
): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > limitMs)
      throw new Error(`timed out waiting for ${what}\n--- agent log ---\n${agentLog}`);
    await Bun.sleep(100);
  }
}

async function admin(method: string, path: string, body?: unknown): Promise<Response> {
  const tokenText = readFileSync(join(tmp, "server", "admin-token"), "utf8").trim();
  const init: RequestInit = {
    method,
    headers: { authorization: `Bearer ${tokenText}`, "content-type": "application/json" },
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  if (!server) throw new Error("the server is not running");
  return await server.fetch(path, init);
}

async function getStatus(): Promise<Record<string, unknown> & { mqtt: Record<string, unknown> }> {
  return (await (await fetch(`${status}/status`)).json()) as Record<string, unknown> & {
    mqtt: Record<string, unknown>;
  };
}

/**
 * Runs `read` while no renewal ends, with the agent's status from just after it: the 1-minute certificates
 * of this file renew every ~40 s, and a renewal between two reads would compare two certificates.
 */
async function betweenRenewals<T>(
  read: () => T | Promise<T>,
): Promise<{ value: T; status: Awaited<ReturnType<typeof getStatus>> }> {
  for (let attempt = 1; ; attempt++) {
    const before = await getStatus();
    const value = await read();
    const status = await getStatus();
    if (status.renewals === before.renewals && status.state === before.state)
      return { value, status };
    if (attempt === 5) throw new Error("the agent renewed during each of five reads");
    await Bun.sleep(200);
  }
}

async function healthz(): Promise<number> {
  try {
    return (await fetch(`${status}/healthz`)).status;
  } catch {
    return 0;
  }
}

function subscribe(): void {
  subscriber?.end(true);
  const client = mqtt.connect(broker.url, {
    ca: broker.serverCa,
    cert: broker.subscriber.cert,
    key: broker.subscriber.key,
    reconnectPeriod: 500,
    clientId: `sub-${Math.random()}`,
  });
  client.on("connect", () => client.subscribe("iota/#", { qos: 1 }));
  client.on("message", (topic, payload, packet) =>
    messages.push({
      topic,
      payload: JSON.parse(payload.toString()) as Record<string, unknown>,
      retain: packet.retain,
    }),
  );
  subscriber = client;
}

beforeAll(async () => {
  const build = spawnSync(
    BUN,
    ["build", "--compile", join(ROOT, "src/iotad/main.ts"), "--outfile", bin],
    { cwd: ROOT, encoding: "utf8" },
  );
  if (build.status !== 0) throw new Error(`bun build --compile failed:\n${build.stderr}`);
  server = await startServer();
  const group = (await (
    await admin("POST", "/v1/groups", { name: "e2e-lights", validity: "1m" })
  ).json()) as { provisioningSecret: string };
  secret = group.provisioningSecret;
  expect((await admin("POST", "/v1/groups/e2e-lights/devices", { name: "lamp-1" })).status).toBe(
    201,
  );
  token = deviceToken(secret, "e2e-lights", "lamp-1");
  const tenantCa = await (await server.fetch("/v1/ca")).text();
  broker = await startTestBroker(tenantCa);
  writeFileSync(join(tmp, "token"), `${token}\n`, { mode: 0o600 });
  writeFileSync(join(tmp, "broker-ca.pem"), broker.serverCa);
  writeFileSync(
    config,
    JSON.stringify({
      server: server.url,
      serverCa: server.serverCaPem,
      group: "e2e-lights",
      device: "lamp-1",
      tokenFile: "token",
      dataDir: join(tmp, "data"),
      statusListen: `127.0.0.1:${statusPort}`,
      mqtt: { url: broker.url, caFile: "broker-ca.pem" },
      afterRenew: `echo "$IOTAD_SERIAL $IOTAD_CERT" >> ${hookLog}`,
    }),
  );
}, 180_000);

afterAll(async () => {
  subscriber?.end(true);
  if (agent && agent.exitCode === null) agent.kill("SIGKILL");
  await stopServer();
  await broker?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test("check-config and version work on the compiled binary; a bad config exits 2 naming file and field", () => {
  const ok = spawnSync(bin, ["check-config", "--config", config], { encoding: "utf8" });
  expect(ok.status).toBe(0);
  expect(ok.stdout).toContain("OK");
  expect(spawnSync(bin, ["version"], { encoding: "utf8" }).stdout).toBe("iotad 0.1.0\n");
  const bad = join(tmp, "bad.json");
  writeFileSync(
    bad,
    JSON.stringify({ server: "iota.example.com", group: "g", device: "d", token: "t" }),
  );
  const result = spawnSync(bin, ["check-config", "-c", bad], { encoding: "utf8" });
  expect(result.status).toBe(2);
  expect(result.stderr).toContain(`${bad}: field "server"`);
  expect(spawnSync(bin, ["frobnicate"], { encoding: "utf8" }).status).toBe(2);
});

test("the daemon provisions, serves status and announces readiness over MQTT", async () => {
  agent = spawn(bin, ["run", "--config", config], { stdio: ["ignore", "pipe", "pipe"] });
  agent.stdout?.on("data", (d) => (agentLog += d));
  agent.stderr?.on("data", (d) => (agentLog += d));
  await waitFor(async () => (await healthz()) === 200, "/healthz 200");
  // Hint: with 1-minute certificates the first renewal can fall due at once; wait for the agent to be at rest.
  await waitFor(async () => (await getStatus()).state === "ready", "state ready");
  const s = await getStatus();
  expect(s.state).toBe("ready");
  expect(s.device).toBe("lamp-1");
  expect(s.group).toBe("e2e-lights");
  expect(s.serial).toMatch(/^[0-9a-f]{32}$/);
  for (const field of [
    "notBefore",
    "notAfter",
    "nextRenewal",
    "lastError",
    "clockSkewMs",
    "version",
  ])
    expect(s).toHaveProperty(field);
  await waitFor(async () => (await getStatus()).mqtt.state === "connected", "MQTT connected");
  subscribe();
  // Hint: the first renewal of a 1-minute certificate may fall due at any moment from here on: the retained
  // message and the CLI are compared with the certificate the agent holds when they are read.
  let held = s;
  await waitFor(async () => {
    held = await getStatus();
    return messages.some(
      (m) => m.retain && m.payload.state === "ready" && m.payload.serial === held.serial,
    );
  }, "the retained ready message");
  const ready = messages.find((m) => m.payload.serial === held.serial);
  expect(ready?.topic).toBe("iota/e2e-lights/lamp-1/status");
  expect(ready?.payload).toMatchObject({
    state: "ready",
    device: "lamp-1",
    group: "e2e-lights",
    notAfter: held.notAfter,
    version: "0.1.0",
  });
  const metrics = await (await fetch(`${status}/metrics`)).text();
  expect(metrics).toContain("iotad_mqtt_connected 1");
  expect(metrics).toMatch(/iotad_certificate_expiry_seconds \d+/);
  const cli = await betweenRenewals(() =>
    spawnSync(bin, ["status", "--json", "-c", config], { encoding: "utf8" }),
  );
  expect(cli.value.status).toBe(0);
  expect(JSON.parse(cli.value.stdout).serial).toBe(cli.status.serial);
}, 90_000);

test("SIGHUP renews at once, re-announces and runs afterRenew; renewal then also happens on schedule", async () => {
  // Hint: the 1-minute certificate may already have been renewed on schedule by the time this test starts.
  const { serial: before, renewals } = await getStatus();
  const done = Number(renewals);
  agent.kill("SIGHUP");
  await waitFor(async () => Number((await getStatus()).renewals) > done, "the SIGHUP renewal");
  const after = (await getStatus()).serial;
  expect(after).not.toBe(before);
  await waitFor(
    () => messages.some((m) => m.payload.state === "ready" && m.payload.serial === after),
    "the re-announcement",
  );
  await waitFor(
    () => existsSync(hookLog) && readFileSync(hookLog, "utf8").includes(String(after)),
    "the afterRenew hook",
  );
  expect(readFileSync(hookLog, "utf8")).toContain(join(tmp, "data", "cert.pem"));
  // A 1-minute certificate is renewed by the schedule within about 40 s.
  await waitFor(
    async () => Number((await getStatus()).renewals) >= done + 2,
    "a scheduled renewal",
    90_000,
  );
  const metrics = await (await fetch(`${status}/metrics`)).text();
  expect(metrics).toMatch(/iotad_renewals_total [2-9]/);
}, 150_000);

test("a one-shot renew or provision beside the running agent is refused and changes nothing", async () => {
  const before = await getStatus();
  for (const command of ["renew", "provision"]) {
    const r = spawnSync(bin, [command, "-c", config], { encoding: "utf8" });
    expect(r.stderr).toContain(
      `an agent is running for ${String(before.group)}/${String(before.device)} (status at ${status}/status)`,
    );
    expect(r.stderr).toContain("send it SIGHUP");
    expect(r.status).toBe(5);
  }
  // The agent still holds the certificate on disk (a scheduled renewal may have replaced both meanwhile).
  const read = await betweenRenewals(() => ({
    onDisk: new X509Certificate(readFileSync(join(tmp, "data", "cert.pem"), "utf8")),
    pending: existsSync(join(tmp, "data", "key.pending.pem")),
  }));
  expect(read.status.state).toBe("ready");
  expect(String(read.status.serial).toLowerCase()).toBe(
    read.value.onDisk.serialNumber.toLowerCase(),
  );
  expect(read.value.pending).toBe(false);
}, 60_000);

test("service down during renewal: the certificate stays in use, failures show, and it recovers", async () => {
  const port = Number(new URL(server?.url ?? "http://x:0").port);
  await stopServer();
  // Hint: read once the service is gone: a scheduled renewal may have ended while it stopped.
  const held = (await getStatus()).serial;
  agent.kill("SIGHUP");
  await waitFor(async () => Number((await getStatus()).renewalFailures) >= 1, "a failed renewal");
  const s = await getStatus();
  expect(s.serial).toBe(held);
  expect(String(s.lastError)).toContain("unreachable");
  expect(await (await fetch(`${status}/metrics`)).text()).toMatch(
    /iotad_renewal_failures_total [1-9]/,
  );
  const renewals = Number(s.renewals);
  server = await startServer(port);
  await waitFor(
    async () => Number((await getStatus()).renewals) > renewals,
    "renewal after the service came back",
    90_000,
  );
  expect((await getStatus()).state).toBe("ready");
}, 150_000);

test("a broker restart: the agent reconnects and announces again", async () => {
  await broker.restart();
  messages.length = 0;
  subscribe();
  const serial = (await getStatus()).serial;
  // The agent may announce before or after the subscriber is back: live or retained, a ready message must come.
  await waitFor(
    () => messages.some((m) => m.payload.state === "ready"),
    "the re-announcement after the broker restart",
    90_000,
  );
  await waitFor(async () => (await getStatus()).mqtt.state === "connected", "MQTT connected again");
  // And the fresh broker holds it as the retained state.
  messages.length = 0;
  subscribe();
  await waitFor(
    () => messages.some((m) => m.retain && m.payload.state === "ready"),
    "the retained ready message on the fresh broker",
  );
  expect(serial).toMatch(/^[0-9a-f]{32}$/);
}, 120_000);

test("SIGTERM publishes a retained offline message and exits 0; the log holds no secret or deprecation warning", async () => {
  const exited = new Promise<number | null>((done) => agent.once("exit", (code) => done(code)));
  agent.kill("SIGTERM");
  expect(await exited).toBe(0);
  await waitFor(() => messages.some((m) => m.payload.state === "offline"), "the offline message");
  messages.length = 0;
  subscribe();
  await waitFor(
    () => messages.some((m) => m.retain && m.payload.state === "offline"),
    "the retained offline message",
  );
  expect(agentLog).not.toContain(token);
  expect(agentLog).not.toContain(secret);
  expect(agentLog).not.toContain("PRIVATE KEY");
  expect(agentLog).not.toContain("DEP0169");
  expect(agentLog).not.toContain("url.parse");
}, 60_000);
