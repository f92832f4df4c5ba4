/**
 * Readiness from the embedded broker: a device's own sessions and status messages make it online or offline in
 * the store (and so in the fleet status), within the recorder's batch delay; a takeover by its own reconnection
 * never shows it offline; a broker start takes every device of an earlier run as gone.
 */

import { afterEach, beforeEach, expect, test } from "bun:test";
import mqtt, { type MqttClient } from "mqtt";
import { exportPrivateKeyPem, importPrivateKeyPem } from "../../src/core/csr.ts";
import { x509 } from "../../src/core/x509.ts";
import { signRenewProof } from "../../src/core/renew-proof.ts";
import { CertificateAuthority } from "../../src/iota-server/ca/authority.ts";
import { DEFAULT_TENANT } from "../../src/iota-server/domain/tenants.ts";
import { ReadinessRecorder } from "../../src/iota-server/domain/readiness.ts";
import {
  startEmbeddedBroker,
  type EmbeddedBroker,
} from "../../src/iota-server/mqtt/embedded-broker.ts";
import { issueMonitorCertificate } from "../../src/iota-server/mqtt/monitor-identity.ts";
import {
  createDevices,
  createGroup,
  createTestService,
  deviceCsr,
  postJson,
  provisionDevice,
  readProblem,
  type TestService,
} from "../helpers/test-service.ts";

let svc: TestService;
let broker: EmbeddedBroker;
let recorder: ReadinessRecorder;
let serverCa: CertificateAuthority;
const clients: MqttClient[] = [];
const creds: Record<string, { cert: string; key: string }> = {};

async function startBroker(): Promise<EmbeddedBroker> {
  return await startEmbeddedBroker({
    listen: { host: "127.0.0.1", port: 0 },
    ctx: svc.ctx,
    tenant: DEFAULT_TENANT,
    serverCa,
    log: svc.log,
    readiness: (change) => recorder.report(change),
  });
}

beforeEach(async () => {
  svc = await createTestService();
  // Hint: the service's clock stays the real one here: aedes and TLS run on real time.
  svc.clock.now = Date.now();
  recorder = new ReadinessRecorder(svc.store, svc.log, 20);
  ({ ca: serverCa } = await CertificateAuthority.createRoot("IoTA server CA", Date.now()));
  const secret = await createGroup(svc, "lamps");
  await createDevices(svc, "lamps", ["a", "b"]);
  for (const name of ["a", "b"]) {
    const { keys, issued } = await provisionDevice(svc, "lamps", name, secret);
    creds[name] = { cert: issued.certificate, key: await exportPrivateKeyPem(keys.privateKey) };
  }
  broker = await startBroker();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await broker.stop();
  await recorder.stop();
  await svc.store.close();
});

/** Connects device `name` as iotad does: its own client id, a retained `offline` last will. */
async function connect(name: string): Promise<MqttClient> {
  const c = creds[name];
  if (!c) throw new Error(`no credentials for ${name}`);
  const client = mqtt.connect(broker.url, {
    ca: broker.caPem,
    cert: c.cert,
    key: c.key,
    clientId: `lamps/${name}`,
    reconnectPeriod: 0,
    will: {
      topic: `iota/lamps/${name}/status`,
      payload: Buffer.from('{"state":"offline"}'),
      qos: 1,
      retain: true,
    },
  });
  clients.push(client);
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", reject);
  });
  return client;
}

/** The device's readiness once the recorder wrote what it was told. */
async function online(name: string): Promise<boolean | null> {
  await recorder.flush();
  return (
    (await svc.store.getDevice({ tenantId: DEFAULT_TENANT, group: "lamps", name }))?.online ?? null
  );
}

/** Waits (up to 10 s, the promise of the fleet status) until `name` shows `want`. */
async function until(name: string, want: boolean | null): Promise<void> {
  const deadline = Date.now() + 10_000;
  while ((await online(name)) !== want) {
    if (Date.now() > deadline) throw new Error(`${name} did not show online=${want} within 10 s`);
    await Bun.sleep(20);
  }
}

test("a session makes a device online; losing it (last will) makes it offline", async () => {
  expect(await online("a")).toBe(null);
  const a = await connect("a");
  await until("a", true);
  expect(await online("b")).toBe(null);
  // Hint: destroying the socket without DISCONNECT is a lost device: the broker publishes its last will.
  a.stream.destroy();
  await until("a", false);
});

test("a device that says it goes offline is offline before its session ends", async () => {
  const a = await connect("a");
  await until("a", true);
  await a.publishAsync("iota/lamps/a/status", '{"state":"offline"}', { qos: 1, retain: true });
  await until("a", false);
  await a.publishAsync("iota/lamps/a/status", '{"state":"ready"}', { qos: 1, retain: true });
  await until("a", true);
});

test("a takeover by the device's own reconnection never shows it offline", async () => {
  const first = await connect("a");
  await until("a", true);
  const closedFirst = new Promise<void>((resolve) => first.once("close", () => resolve()));
  await connect("a");
  await closedFirst;
  await Bun.sleep(200);
  expect(await online("a")).toBe(true);
  expect(await svc.store.applyReadiness([])).toBe(0);
});

test("a broker start takes the devices of an earlier run as gone until they reconnect", async () => {
  await connect("a");
  await until("a", true);
  await Promise.all(clients.splice(0).map((c) => c.endAsync(true)));
  await broker.stop();
  await recorder.flush();
  await svc.store.applyReadiness([
    { tenant: DEFAULT_TENANT, group: "lamps", device: "b", online: true, at: Date.now() },
  ]);
  broker = await startBroker();
  expect(await online("a")).toBe(false);
  expect(await online("b")).toBe(false);
  const [lamps] = await svc.store.groupTallies(DEFAULT_TENANT, { names: ["lamps"] });
  expect([lamps?.online, lamps?.offline]).toEqual([0, 2]);
});

test("the service's monitor certificate is no device: the embedded broker refuses it, /v1/renew too", async () => {
  const monitor = await issueMonitorCertificate(
    await svc.ctx.tenants.ca(DEFAULT_TENANT),
    DEFAULT_TENANT,
    Date.now(),
  );
  const client = mqtt.connect(broker.url, {
    ca: broker.caPem,
    cert: monitor.certPem,
    key: monitor.keyPem,
    reconnectPeriod: 0,
  });
  clients.push(client);
  const refused = await new Promise<Error>((resolve) => client.once("error", resolve));
  expect(refused.message).toMatch(/Not authorized/i);
  expect(svc.log.lines.join("\n")).toContain("names no IoTA device");
  const { privateKey } = await importPrivateKeyPem(monitor.keyPem);
  const { csr } = await deviceCsr("a");
  const serial = new x509.X509Certificate(monitor.certPem).serialNumber;
  const proof = await signRenewProof(privateKey, serial, csr, new Date(svc.clock.now));
  const res = await postJson(svc, "/v1/renew", { certificate: monitor.certPem, ...proof });
  expect(res.status).toBe(400);
  expect((await readProblem(res)).errors?.[0]?.field).toBe("certificate");
});
