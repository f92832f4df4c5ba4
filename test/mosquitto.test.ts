/**
 * Debian's Mosquitto as the production broker: a real iota-server process issues device certificates, Mosquitto
 * checks them against the tenant CA and CRL (config from mosquitto-config.ts), and a revocation reaches it by a
 * fresh `GET /v1/crl` and SIGHUP, as docs/mosquitto.md tells operators to do.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt, { type MqttClient } from "mqtt";
import { startServerProcess, type ServerProcess } from "./helpers/server-process.ts";
import {
  type MosquittoProcess,
  prepareMosquitto,
  refreshCrl,
  runOk,
  startMosquitto,
  tool,
} from "./helpers/mosquitto-process.ts";
import { provisionWithToken } from "./helpers/device-client.ts";
import { exportPrivateKeyPem } from "../src/core/csr.ts";

/** A provisioned device's files. */
interface DeviceFiles {
  name: string;
  cert: string;
  key: string;
}

const GROUP = "room2-lights";
let server: ServerProcess;
let dir: string;
let broker: MosquittoProcess;
let port: number;
const devices: Record<string, DeviceFiles> = {};
const clients: MqttClient[] = [];

async function api(method: string, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = {
    method,
    headers: { authorization: `Bearer ${server.token()}`, "content-type": "application/json" },
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  return await server.fetch(`${path}`, init);
}

/** Provisions `name` with a WebCrypto key and its device token, as iotad does; writes its key and certificate. */
async function provision(name: string, secret: string): Promise<DeviceFiles> {
  const held = await provisionWithToken(server, GROUP, name, secret);
  const files = { name, cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  writeFileSync(files.cert, held.certificate, { mode: 0o644 });
  writeFileSync(files.key, await exportPrivateKeyPem(held.keys.privateKey), { mode: 0o600 });
  return files;
}

/** Connects mqtt.js with a device's certificate; resolves on CONNACK, rejects on any refusal. */
function connect(device: DeviceFiles): Promise<MqttClient> {
  const client = mqtt.connect(`mqtts://127.0.0.1:${port}`, {
    servername: "localhost",
    ca: readFileSync(join(dir, "broker.pem"), "utf8"),
    cert: readFileSync(device.cert, "utf8"),
    key: readFileSync(device.key, "utf8"),
    reconnectPeriod: 0,
    connectTimeout: 20_000,
  });
  clients.push(client);
  return new Promise((resolve, reject) => {
    client.once("connect", () => resolve(client));
    client.once("error", reject);
    client.once("close", () => reject(new Error("closed before CONNACK")));
  });
}

/** `mosquitto_sub -C 1` with a device's certificate: the first message on `topic` (the retained one). */
function subscribeOnce(
  device: DeviceFiles,
  topic: string,
): { code: number; stdout: string; stderr: string } {
  const cmd = [
    tool("mosquitto_sub"),
    "-h",
    "localhost",
    "-p",
    String(port),
    "-C",
    "1",
    "-W",
    "30",
    "-t",
    topic,
  ];
  cmd.push("--cafile", join(dir, "broker.pem"), "--cert", device.cert, "--key", device.key);
  const result = Bun.spawnSync(cmd, { stdout: "pipe", stderr: "pipe" });
  return {
    code: result.exitCode ?? -1,
    stdout: result.stdout.toString(),
    stderr: result.stderr.toString(),
  };
}

beforeAll(async () => {
  tool("openssl");
  dir = mkdtempSync(join(tmpdir(), "iota-mosquitto-"));
  // Hint: MosquittoProcess started as root drops to user mosquitto before it reads the CRL again on SIGHUP.
  chmodSync(dir, 0o755);
  server = await startServerProcess({ tls: true });
  const group = await api("POST", "/v1/groups", { name: GROUP });
  if (group.status !== 201)
    throw new Error(`creating the group: ${group.status} ${await group.text()}`);
  const secret = ((await group.json()) as { provisioningSecret: string }).provisioningSecret;
  const created = await api("POST", `/v1/groups/${GROUP}/devices`, { names: ["lamp-1", "lamp-2"] });
  if (created.status !== 200)
    throw new Error(`creating devices: ${created.status} ${await created.text()}`);
  devices.lamp1 = await provision("lamp-1", secret);
  devices.lamp2 = await provision("lamp-2", secret);

  // The broker's own certificate comes from the operator's PKI, not from IoTA; devices pin it with --mqtt-ca.
  let config: string;
  ({ config, port } = await prepareMosquitto(server, dir));
  broker = await startMosquitto(config);
}, 120_000);

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true)));
  await broker?.stop();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("Mosquitto with the tenant CA and CRL", () => {
  test("a device publishes its retained readiness; another device of the tenant reads it with mosquitto_sub", async () => {
    const lamp1 = await connect(devices.lamp1!);
    await lamp1.publishAsync(
      "iota/room2-lights/lamp-1/status",
      JSON.stringify({ state: "ready" }),
      { qos: 1, retain: true },
    );
    const seen = subscribeOnce(devices.lamp2!, "iota/room2-lights/lamp-1/status");
    expect(seen.stderr).toBe("");
    expect(seen.stdout.trim()).toBe('{"state":"ready"}');
    expect(broker.log).toContain("u'lamp-1'");
  });

  test("the ACL keeps a device out of another device's topics", async () => {
    const lamp2 = await connect(devices.lamp2!);
    await lamp2.publishAsync("iota/room2-lights/lamp-2/status", '{"state":"ready"}', {
      qos: 1,
      retain: true,
    });
    const lamp1 = await connect(devices.lamp1!);
    // Hint: MosquittoProcess acknowledges a denied publish and drops it, so the retained message shows whether it got through.
    await lamp1.publishAsync("iota/room2-lights/lamp-2/status", '{"state":"forged"}', {
      qos: 1,
      retain: true,
    });
    expect(subscribeOnce(devices.lamp2!, "iota/room2-lights/lamp-2/status").stdout.trim()).toBe(
      '{"state":"ready"}',
    );
  });

  test("a revoked device is refused at TLS once the fresh CRL is loaded; other devices still connect", async () => {
    const res = await api("POST", `/v1/groups/${GROUP}/devices/lamp-1/revoke`);
    expect(res.status).toBe(200);
    const serial = ((await res.json()) as { serial: string }).serial;
    await refreshCrl(server, dir);
    expect(
      runOk([tool("openssl"), "crl", "-in", join(dir, "crl.pem"), "-noout", "-text"]),
    ).toContain(serial.toUpperCase());
    await broker.reload();

    const from = broker.log.length;
    const refused = await connect(devices.lamp1!).then(
      () => undefined,
      (error: Error) => error,
    );
    expect(refused?.message).toMatch(/CERTIFICATE_REVOKED/i);
    await broker.waitFor(/certificate verify failed/, from);
    expect(broker.log.slice(from)).not.toContain("u'lamp-1'");

    const lamp2 = subscribeOnce(devices.lamp2!, "iota/room2-lights/lamp-2/status");
    expect(lamp2.stdout.trim()).toBe('{"state":"ready"}');
    const lamp1 = subscribeOnce(devices.lamp1!, "iota/room2-lights/lamp-1/status");
    expect(lamp1.code).not.toBe(0);
    expect(lamp1.stdout).toBe("");
  }, 120_000);
});
