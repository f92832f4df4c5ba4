/**
 * The compiled iotad (x64 natively, arm64 under qemu-aarch64) against a real iota-server and Debian's Mosquitto
 * (tenant CA and CRL, docs/mosquitto.md):
 * renewal after renewal it reconnects with the new certificate and announces it, with one key and certificate on
 * disk; a renewal while Mosquitto is down is announced once it is back; a device the service refuses for good
 * (revoked) announces offline and leaves the broker, whose CRL check would never end its open session.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { exportPrivateKeyPem } from "../../src/core/csr.ts";
import { deviceToken } from "../../src/core/token.ts";
import { provisionWithToken } from "../helpers/device-client.ts";
import {
  type MosquittoProcess,
  prepareMosquitto,
  refreshCrl,
  runOk,
  selfSigned,
  startMosquitto,
  tool,
} from "../helpers/mosquitto-process.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import {
  type AgentProcess,
  buildCompiledAgent,
  fakeClockEnv,
  startCompiledAgent,
  writeAgentConfig,
} from "./agent-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iotad-mosquitto-"));
let bin = "";
/** The arm64 build under qemu-user with Debian's arm64 sysroot, as a device of that architecture runs it. */
let arm64: { bin: string; wrapper: string[] } = { bin: "", wrapper: [] };
let server: ServerProcess;
let broker: MosquittoProcess;
let mosquittoConfig = "";
let port = 0;
let secret = "";
let hourlySecret = "";
let watcher: MqttClient;
/** The last message the watcher saw on each status topic, and whether it came as retained. */
const lastSeen = new Map<string, { payload: string; retained: boolean }>();

/** A client reading every device's status, with a certificate of another group (valid an hour). */
async function startWatcher(): Promise<void> {
  const group = await server.admin("POST", "/v1/groups", { name: "watch", validity: "1h" }, 201);
  await server.admin("POST", "/v1/groups/watch/devices", { name: "watcher" }, 201);
  const held = await provisionWithToken(
    server,
    "watch",
    "watcher",
    String(group.provisioningSecret),
  );
  watcher = mqtt.connect(`mqtts://127.0.0.1:${port}`, {
    servername: "localhost",
    ca: readFileSync(join(tmp, "broker.pem"), "utf8"),
    cert: held.certificate,
    key: await exportPrivateKeyPem(held.keys.privateKey),
    clientId: "watch/watcher",
    reconnectPeriod: 500,
  });
  watcher.on("connect", () => watcher.subscribe("iota/+/+/status", { qos: 1 }));
  watcher.on("message", (topic, payload, packet) =>
    lastSeen.set(topic, { payload: payload.toString(), retained: packet.retain }),
  );
  await new Promise<void>((resolve) => watcher.once("connect", () => resolve()));
}

beforeAll(async () => {
  tool("openssl");
  // Hint: Mosquitto started as root drops to user mosquitto before it reads the CRL again on SIGHUP.
  chmodSync(tmp, 0o755);
  bin = buildCompiledAgent(tmp);
  const sysroot = "/usr/aarch64-linux-gnu";
  if (!existsSync(join(sysroot, "lib")))
    throw new Error(`${sysroot} is missing (apt-get install libc6-arm64-cross)`);
  arm64 = {
    bin: buildCompiledAgent(tmp, "bun-linux-arm64"),
    wrapper: [tool("qemu-aarch64"), "-L", sysroot],
  };
  server = await startServerProcess({ tls: true, data: join(tmp, "server") });
  const group = await server.admin("POST", "/v1/groups", { name: "line", validity: "1m" }, 201);
  secret = String(group.provisioningSecret);
  // Hint: one-hour certificates for the renewal rounds, so only SIGHUP renews and the data folder is between renewals when read.
  const hourly = await server.admin("POST", "/v1/groups", { name: "hourly", validity: "1h" }, 201);
  hourlySecret = String(hourly.provisioningSecret);
  ({ config: mosquittoConfig, port } = await prepareMosquitto(server, tmp));
  broker = await startMosquitto(mosquittoConfig);
  await startWatcher();
}, 120_000);

afterAll(async () => {
  watcher?.end(true);
  await broker?.stop();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Writes `name`'s iotad config (announcing on Mosquitto, trusting `brokerCa`); returns its path and data folder. */
async function deviceConfig(
  name: string,
  brokerCa = join(tmp, "broker.pem"),
  group = "line",
): Promise<{ config: string; dataDir: string }> {
  await server.admin("POST", `/v1/groups/${group}/devices`, { name }, 201);
  const dataDir = join(tmp, `data-${name}`);
  const config = writeAgentConfig(tmp, name, {
    server: server.url,
    serverCa: server.serverCaPem,
    group,
    device: name,
    token: deviceToken(group === "line" ? secret : hourlySecret, group, name),
    dataDir,
    mqtt: { url: `mqtts://localhost:${port}`, caFile: brokerCa },
  });
  return { config, dataDir };
}

/** Creates `name` (one-hour certificates), starts its iotad (`arch`) announcing on Mosquitto, and waits until it is ready and announced. */
async function announcedDevice(
  name: string,
  arch: "x64" | "arm64",
): Promise<{ agent: AgentProcess; dataDir: string }> {
  const { config, dataDir } = await deviceConfig(name, join(tmp, "broker.pem"), "hourly");
  const agent =
    arch === "x64"
      ? startCompiledAgent(bin, config)
      : startCompiledAgent(arm64.bin, config, arm64.wrapper);
  await agent.until((s) => s.state === "ready" && mqttState(s) === "connected", "the announcement");
  return { agent, dataDir };
}

const mqttState = (s: Record<string, unknown>) => (s.mqtt as { state: string }).state;

/** Waits until the watcher's last message on `iota/<topic>/status` satisfies `ok`. */
async function seen(
  topic: string,
  ok: (message: Record<string, unknown>) => boolean,
  what: string,
): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const last = lastSeen.get(`iota/${topic}/status`);
    const message = last ? (JSON.parse(last.payload) as Record<string, unknown>) : undefined;
    if (message && ok(message)) return message;
    if (Date.now() > deadline)
      throw new Error(`the watcher never saw ${what} on ${topic}; last: ${JSON.stringify(last)}`);
    await Bun.sleep(100);
  }
}

async function healthz(agent: AgentProcess): Promise<number> {
  const url = /status endpoint on (http:\/\/\S+)/.exec(agent.log())?.[1] ?? "";
  return (await fetch(`${url.replace(/\/$/, "")}/healthz`)).status;
}

for (const arch of ["x64", "arm64"] as const) {
  test(`${arch}: renewal after renewal: each certificate connects and is announced, one key and certificate on disk; a renewal while Mosquitto is down is announced once it is back`, async () => {
    const { agent, dataDir } = await announcedDevice(`lamp-1-${arch}`, arch);
    try {
      const serials = new Set<string>();
      for (let round = 0; round < 4; round++) {
        const before = await agent.until(() => true, "status");
        const logged = broker.log.length;
        agent.proc.kill("SIGHUP");
        const after = await agent.until(
          (s) =>
            s.renewals > before.renewals && s.state === "ready" && mqttState(s) === "connected",
          "the renewal and the reconnection",
        );
        const serial = String(after.serial);
        serials.add(serial);
        await seen(
          `hourly/lamp-1-${arch}`,
          (m) => m.state === "ready" && m.serial === serial,
          `ready ${serial}`,
        );
        // Each round's certificate made a connection of its own, not only the first.
        await broker.waitFor(
          new RegExp(`as hourly/lamp-1-${arch} \\(p2, c1, k60, u'lamp-1-${arch}'\\)`),
          logged,
        );
        const files = readdirSync(dataDir).sort();
        expect(files).toEqual(["ca.pem", "cert.pem", "identity.json", "iotad.lock", "key.pem"]);
        expect(
          runOk([tool("openssl"), "x509", "-noout", "-serial", "-in", join(dataDir, "cert.pem")]),
        ).toContain(serial.toUpperCase());
      }
      expect(serials.size).toBe(4);

      await broker.stop();
      const before = await agent.until((s) => mqttState(s) !== "connected", "the lost connection");
      agent.proc.kill("SIGHUP");
      const renewed = await agent.until(
        (s) => s.renewals > before.renewals && s.state === "ready",
        "a renewal while Mosquitto is down",
      );
      expect(mqttState(renewed)).not.toBe("connected");
      broker = await startMosquitto(mosquittoConfig);
      const back = await agent.until(
        (s) => mqttState(s) === "connected",
        "the reconnection once Mosquitto is back",
      );
      const serial = String(back.serial);
      expect(serial).not.toBe(String(before.serial));
      // Mosquitto kept no retained message over its restart: the announcement is the new one.
      await seen(
        `hourly/lamp-1-${arch}`,
        (m) => m.state === "ready" && m.serial === serial,
        `ready ${serial}`,
      );
    } finally {
      await agent.stop();
    }
  }, 60_000);

  test(`${arch}: revoked while connected: Mosquitto keeps the session after the CRL refresh; once the service refuses, iotad announces offline and leaves the broker until a reset brings a new certificate`, async () => {
    const { agent } = await announcedDevice(`lamp-2-${arch}`, arch);
    try {
      const held = await agent.until(() => true, "status");
      await server.admin("POST", `/v1/groups/hourly/devices/lamp-2-${arch}/revoke`, undefined, 200);
      await refreshCrl(server, tmp);
      await broker.reload();
      // Mosquitto checks the CRL at new connections only: the open session goes on (docs/mosquitto.md).
      expect(mqttState(await agent.until(() => true, "status"))).toBe("connected");

      agent.proc.kill("SIGHUP");
      const refused = await agent.until(
        (s) => s.state === "error" && mqttState(s) === "waiting",
        "the refusal and the withdrawal",
        30_000,
      );
      expect(String(refused.lastError)).toContain("is revoked");
      expect(await healthz(agent)).toBe(503);
      await seen(`hourly/lamp-2-${arch}`, (m) => m.state === "offline", "offline");
      // Hint: iotad logs the withdrawal once its disconnect ends, which can come after the broker forwarded the message.
      const withdrawn = `mqtt: the service refused certificate ${held.serial}; announced offline on iota/hourly/lamp-2-${arch}/status`;
      await agent.until(() => agent.log().includes(withdrawn), "the withdrawal's log line", 10_000);

      await server.admin("POST", `/v1/groups/hourly/devices/lamp-2-${arch}/reset`, undefined, 200);
      agent.proc.kill("SIGHUP");
      const again = await agent.until(
        (s) => s.state === "ready" && mqttState(s) === "connected",
        "provisioning again after the reset, and the announcement",
      );
      expect(again.serial).not.toBe(held.serial);
      await seen(
        `hourly/lamp-2-${arch}`,
        (m) => m.state === "ready" && m.serial === again.serial,
        "ready again",
      );
    } finally {
      await agent.stop();
    }
  }, 60_000);
}

test("device clock at 1970-01-02: the broker's certificate is not yet valid by it, so iotad checks it against the pinned CA without the dates, and announces", async () => {
  const { config } = await deviceConfig("lamp-3");
  const agent = startCompiledAgent(bin, config, [], fakeClockEnv("@1970-01-02 00:00:00"));
  try {
    const s = await agent.until(
      (x) => x.state === "ready" && mqttState(x) === "connected",
      "provisioning and the announcement",
      40_000,
    );
    expect(agent.log()).toContain("1970-01-02T");
    expect(agent.log()).toContain(
      "certificate is not yet valid by this device's clock; the next attempt checks the broker's certificate against the pinned CA without its validity dates",
    );
    await seen("line/lamp-3", (m) => m.state === "ready" && m.serial === s.serial, "ready");
  } finally {
    await agent.stop();
  }
}, 60_000);

test("device clock at 1970-01-02 and a broker certificate from another CA than the pinned one: never connected", async () => {
  // Another self-signed certificate for localhost: a broker CA this device does not trust.
  const other = selfSigned(tmp, "other");
  const { config } = await deviceConfig("lamp-4", other);
  const agent = startCompiledAgent(bin, config, [], fakeClockEnv("@1970-01-02 00:00:00"));
  try {
    await agent.until((x) => x.state === "ready", "provisioning", 40_000);
    // The fully checked attempt fails for the clock, the one without the dates for the chain: the connection ends
    // before a single MQTT byte (the will, the readiness) was written.
    const refused = await agent.until(
      (x) =>
        agent.log().includes("the server's certificate does not chain to the pinned broker CA") ||
        mqttState(x) === "connected",
      "the refusal of the broker's certificate",
      40_000,
    );
    expect(mqttState(refused)).not.toBe("connected");
    expect(agent.log()).toContain("certificate is not yet valid by this device's clock");
    expect(agent.log()).not.toContain("announced ready");
    expect(broker.log).not.toContain("as line/lamp-4");
    expect(lastSeen.has("iota/line/lamp-4/status")).toBe(false);
  } finally {
    await agent.stop();
  }
}, 60_000);
