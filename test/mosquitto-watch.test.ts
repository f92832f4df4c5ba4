/**
 * `iota-server --mqtt-watch` against Debian's Mosquitto configured as docs/mosquitto.md says (mosquitto-config.ts,
 * ACL with the monitor's section): the service connects as the monitor identity it issues itself, and what devices
 * announce (a retained `ready`, their last will) shows in the fleet status within 10 s, also after Mosquitto
 * restarts; the ACL lets a certificate named like the monitor read status topics and publish nowhere.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import type { FleetStatus } from "../src/core/fleet.ts";
import type { DeviceView } from "../src/core/wire.ts";
import { exportPrivateKeyPem } from "../src/core/csr.ts";
import { provisionWithToken } from "./helpers/device-client.ts";
import { startServerProcess, type ServerProcess } from "./helpers/server-process.ts";
import {
  freePort,
  type MosquittoProcess,
  runOk,
  selfSigned,
  startMosquitto,
  tool,
  writeMosquittoSetup,
} from "./helpers/mosquitto-process.ts";

const GROUP = "room2-lights";
let server: ServerProcess;
let dir: string;
let config: string;
let port: number;
let broker: MosquittoProcess;
const clients: MqttClient[] = [];
const files = (name: string) => ({ cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) });

/** A key and a certificate signed by the test's own CA (also in Mosquitto's cafile), with subject CN `cn`. */
function testCaCertificate(cn: string): void {
  const { cert, key } = files(cn);
  const csr = join(dir, `${cn}.csr`);
  runOk(
    [
      tool("openssl"),
      "req",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
    ].concat(["-subj", `/CN=${cn}`, "-keyout", key, "-out", csr]),
  );
  runOk(
    [tool("openssl"), "x509", "-req", "-in", csr, "-CA", join(dir, "test-ca.pem")].concat([
      "-CAkey",
      join(dir, "test-ca.key"),
      "-CAcreateserial",
      "-days",
      "1",
      "-out",
      cert,
    ]),
  );
}

async function provision(name: string, secret: string): Promise<void> {
  const held = await provisionWithToken(server, GROUP, name, secret);
  const { cert, key } = files(name);
  writeFileSync(cert, held.certificate, { mode: 0o644 });
  writeFileSync(key, await exportPrivateKeyPem(held.keys.privateKey), { mode: 0o600 });
}

/** Connects as iotad does: its certificate, a retained `offline` last will. */
async function connect(name: string, will = true): Promise<MqttClient> {
  const { cert, key } = files(name);
  const client = mqtt.connect(`mqtts://127.0.0.1:${port}`, {
    servername: "localhost",
    ca: readFileSync(join(dir, "broker.pem"), "utf8"),
    cert: readFileSync(cert, "utf8"),
    key: readFileSync(key, "utf8"),
    reconnectPeriod: 0,
    ...(will
      ? {
          will: {
            topic: `iota/${GROUP}/${name}/status`,
            payload: Buffer.from('{"state":"offline"}'),
            qos: 1 as const,
            retain: true,
          },
        }
      : {}),
  });
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return client;
}

async function device(name: string): Promise<DeviceView> {
  return (await server.admin(
    "GET",
    `/v1/groups/${GROUP}/devices/${name}`,
    undefined,
    200,
  )) as unknown as DeviceView;
}

/** Waits until `check` holds; `limitMs` is the promise under test (10 s for a change of readiness). */
async function within(limitMs: number, what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > deadline)
      throw new Error(`${what} did not happen within ${limitMs / 1000} s\n${server.output()}`);
    await Bun.sleep(100);
  }
}

beforeAll(async () => {
  tool("openssl");
  dir = mkdtempSync(join(tmpdir(), "iota-mqtt-watch-"));
  // Hint: Mosquitto started as root drops to user mosquitto before it reads its files again.
  chmodSync(dir, 0o755);
  selfSigned(dir, "broker");
  selfSigned(dir, "test-ca", "/CN=test CA", "basicConstraints=critical,CA:TRUE");
  port = await freePort();
  // The watch starts before the broker is up: it keeps retrying with backoff until Mosquitto listens.
  server = await startServerProcess({
    tls: true,
    args: ["--mqtt-watch", `mqtts://localhost:${port}`, "--mqtt-watch-ca", join(dir, "broker.pem")],
  });
  expect(server.output()).toContain(`mqtt watch:  mqtts://localhost:${port}`);
  const group = await server.admin("POST", "/v1/groups", { name: GROUP }, 201);
  const secret = String(group.provisioningSecret);
  await server.admin("POST", `/v1/groups/${GROUP}/devices`, { names: ["lamp-1", "lamp-2"] }, 200);
  await provision("lamp-1", secret);
  await provision("lamp-2", secret);
  testCaCertificate("iota.monitor");
  const tenantCa = await (await server.fetch("/v1/ca")).text();
  // Hint: the test's own CA beside the tenant CA, so the test can hold a certificate named like the monitor.
  writeFileSync(
    join(dir, "ca.pem"),
    `${tenantCa.trim()}\n${readFileSync(join(dir, "test-ca.pem"), "utf8")}`,
    { mode: 0o644 },
  );
  // Mosquitto checks a CRL for every CA it trusts (crlfile): the test CA's own empty CRL goes beside the tenant's.
  writeFileSync(join(dir, "index.txt"), "");
  writeFileSync(join(dir, "crlnumber"), "01\n");
  writeFileSync(
    join(dir, "openssl-ca.cnf"),
    `[ca]\ndefault_ca = test\n[test]\ndatabase = ${join(dir, "index.txt")}\ncrlnumber = ${join(dir, "crlnumber")}\ndefault_md = sha256\ndefault_crl_days = 2\n`,
  );
  const testCrl = runOk(
    [tool("openssl"), "ca", "-gencrl", "-config", join(dir, "openssl-ca.cnf")].concat([
      "-keyfile",
      join(dir, "test-ca.key"),
      "-cert",
      join(dir, "test-ca.pem"),
    ]),
  );
  const tenantCrl = await (await server.fetch("/v1/crl")).text();
  writeFileSync(join(dir, "crl.pem"), `${tenantCrl.trim()}\n${testCrl}`, { mode: 0o644 });
  for (const name of ["broker.pem", "lamp-1.pem", "lamp-2.pem", "iota.monitor.pem"])
    chmodSync(join(dir, name), 0o644);
  config = writeMosquittoSetup(dir, port);
  broker = await startMosquitto(config);
  await broker.waitFor(/New client connected .* u'iota\.monitor'/);
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker?.stop();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("iota-server --mqtt-watch on Mosquitto", () => {
  test("a device's retained ready shows it online, its last will offline, each within 10 s", async () => {
    expect((await device("lamp-1")).online).toBe(null);
    const lamp = await connect("lamp-1");
    await lamp.publishAsync(`iota/${GROUP}/lamp-1/status`, '{"state":"ready"}', {
      qos: 1,
      retain: true,
    });
    await within(10_000, "lamp-1 online", async () => (await device("lamp-1")).online === true);
    const status = (await server.admin(
      "GET",
      "/v1/status",
      undefined,
      200,
    )) as unknown as FleetStatus;
    expect([status.online, status.offline]).toEqual([1, 0]);
    lamp.stream.destroy();
    await within(10_000, "lamp-1 offline", async () => (await device("lamp-1")).online === false);
    expect((await device("lamp-2")).online).toBe(null);
  }, 60_000);

  test("after Mosquitto restarts, the watch reconnects by itself and sees new announcements", async () => {
    await broker.stop();
    broker = await startMosquitto(config);
    await broker.waitFor(/u'iota\.monitor'/);
    const lamp = await connect("lamp-2");
    await lamp.publishAsync(`iota/${GROUP}/lamp-2/status`, '{"state":"ready"}', {
      qos: 1,
      retain: true,
    });
    await within(10_000, "lamp-2 online", async () => (await device("lamp-2")).online === true);
    expect(server.output()).toContain("mqtt watch:");
  }, 90_000);

  test("the ACL: a certificate named like the monitor reads every status and publishes nowhere", async () => {
    const lamp = await connect("lamp-2", false);
    await lamp.publishAsync(`iota/${GROUP}/lamp-2/status`, '{"state":"ready"}', {
      qos: 1,
      retain: true,
    });
    const monitor = mqtt.connect(`mqtts://127.0.0.1:${port}`, {
      servername: "localhost",
      ca: readFileSync(join(dir, "broker.pem"), "utf8"),
      cert: readFileSync(files("iota.monitor").cert, "utf8"),
      key: readFileSync(files("iota.monitor").key, "utf8"),
      reconnectPeriod: 0,
    });
    clients.push(monitor);
    await new Promise<void>((resolve, reject) => {
      monitor.once("connect", () => resolve());
      monitor.once("error", reject);
    });
    const seen: string[] = [];
    monitor.on("message", (topic, payload) => seen.push(`${topic} ${payload}`));
    const granted = await monitor.subscribeAsync("iota/+/+/status", { qos: 1 });
    expect(granted.map((g) => g.qos)).toEqual([1]);
    await within(10_000, "the retained status", async () => seen.length > 0);
    expect(seen).toContain(`iota/${GROUP}/lamp-2/status {"state":"ready"}`);
    // Mosquitto acknowledges a denied publish and drops it, so what is retained afterwards tells.
    for (const topic of [`iota/${GROUP}/iota.monitor/status`, `iota/${GROUP}/lamp-2/status`])
      await monitor.publishAsync(topic, '{"state":"forged"}', { qos: 1, retain: true });
    const reader = await connect("lamp-1", false);
    const retained: string[] = [];
    reader.on("message", (topic, payload) => retained.push(`${topic} ${payload}`));
    await reader.subscribeAsync([`iota/${GROUP}/+/status`, `iota/${GROUP}/lamp-1/marker`], {
      qos: 1,
    });
    // Hint: retained messages come with the subscription, before anything published after it (the marker).
    await reader.publishAsync(`iota/${GROUP}/lamp-1/marker`, "end", { qos: 1 });
    await within(10_000, "the marker", async () => retained.some((m) => m.endsWith(" end")));
    expect(retained).toContain(`iota/${GROUP}/lamp-2/status {"state":"ready"}`);
    expect(retained.filter((m) => m.includes("iota.monitor") || m.includes("forged"))).toEqual([]);
    expect((await device("lamp-2")).online).toBe(true);
  }, 60_000);
});

test("a --mqtt-watch-ca that cannot be read stops the start (exit 3), naming the file", async () => {
  const error = await startServerProcess({
    tls: true,
    data: join(dir, "bad-start"),
    args: ["--mqtt-watch", "mqtts://localhost:1", "--mqtt-watch-ca", "/nonexistent/ca.pem"],
  }).then(
    () => undefined,
    (e: Error) => e,
  );
  expect(error?.message).toContain("exited (3)");
  expect(error?.message).toContain("cannot read --mqtt-watch-ca /nonexistent/ca.pem");
});
