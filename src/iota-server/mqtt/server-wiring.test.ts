/** `--mqtt-listen` wiring: startServer runs the embedded broker beside the API and stops it with the service. */

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { startServer, type RunningServer } from "../server.ts";
import { memoryLogger } from "../log.ts";
import { createCsrPem, exportPrivateKeyPem, generateDeviceKey } from "../../core/csr.ts";
import { deviceToken } from "../../core/token.ts";

let dir: string | undefined;
let server: RunningServer | undefined;
afterEach(async () => {
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  server = undefined;
  dir = undefined;
});

test("a server started with mqttListen serves devices it provisioned over MQTT; without it there is no broker", async () => {
  dir = mkdtempSync(join(tmpdir(), "iota-wiring-"));
  const log = memoryLogger();
  const plain = await startServer(
    { data: join(dir, "plain"), listen: { host: "127.0.0.1", port: 0 }, db: "sqlite::memory:" },
    log,
  );
  expect(plain.broker).toBeUndefined();
  await plain.stop();

  server = await startServer(
    {
      data: join(dir, "mqtt"),
      listen: { host: "127.0.0.1", port: 0 },
      db: "sqlite::memory:",
      mqttListen: { host: "127.0.0.1", port: 0 },
    },
    log,
  );
  const broker = server.broker;
  if (!broker) throw new Error("startServer did not start the embedded broker");
  expect(broker.url).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
  const admin = {
    authorization: `Bearer ${server.newAdminToken}`,
    "content-type": "application/json",
  };
  const group = (await (
    await fetch(`${server.url}/v1/groups`, { method: "POST", headers: admin, body: '{"name":"g"}' })
  ).json()) as { provisioningSecret: string };
  await fetch(`${server.url}/v1/groups/g/devices`, {
    method: "POST",
    headers: admin,
    body: '{"name":"d"}',
  });
  const keys = await generateDeviceKey();
  const body = {
    group: "g",
    device: "d",
    csr: await createCsrPem(keys, "d"),
    token: deviceToken(group.provisioningSecret, "g", "d"),
  };
  const res = await fetch(`${server.url}/v1/provision`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const issued = (await res.json()) as { certificate: string; ca: string };
  expect(issued.ca).toBe(broker.caPem);

  const client = await mqtt.connectAsync(broker.url, {
    ca: issued.ca,
    cert: issued.certificate,
    key: await exportPrivateKeyPem(keys.privateKey),
    clientId: "g/d",
    reconnectPeriod: 0,
  });
  await client.publishAsync("iota/g/d/status", '{"state":"ready"}', { qos: 1, retain: true });
  const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
  await server.stop();
  server = undefined;
  await closed;
  expect(log.lines.join("\n")).toContain("mqtt: g/d connected");
});
