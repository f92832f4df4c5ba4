/** `--mqtt-listen` wiring: startServer runs the embedded broker beside the API and stops it with the service. */

import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import mqtt from "mqtt";
import { DEFAULT_ISSUE_RATE, type ServerConfig } from "../../src/iota-server/config.ts";
import { startServer, type RunningServer } from "../../src/iota-server/server.ts";
import { memoryLogger } from "../../src/iota-server/log.ts";
import { createCsrPem, exportPrivateKeyPem, generateDeviceKey } from "../../src/core/csr.ts";
import { deviceToken } from "../../src/core/token.ts";

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
  const base: Pick<ServerConfig, "tls" | "issueRate"> = {
    tls: { kind: "self", hostnames: [] },
    issueRate: DEFAULT_ISSUE_RATE,
  };
  const plain = await startServer(
    {
      ...base,
      data: join(dir, "plain"),
      listen: { host: "127.0.0.1", port: 0 },
      db: "sqlite::memory:",
    },
    log,
  );
  expect(plain.broker).toBeUndefined();
  await plain.stop();

  server = await startServer(
    {
      ...base,
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
  // Hint: the broker presents a certificate of the server CA, the same trust as the API's.
  expect(broker.caPem).toBe(server.serverCaPem);
  const tls = { ca: server.serverCaPem };
  const admin = {
    authorization: `Bearer ${server.newAdminToken}`,
    "content-type": "application/json",
  };
  const group = (await (
    await fetch(`${server.url}/v1/groups`, {
      method: "POST",
      headers: admin,
      body: '{"name":"g"}',
      tls,
    })
  ).json()) as { provisioningSecret: string };
  await fetch(`${server.url}/v1/groups/g/devices`, {
    method: "POST",
    headers: admin,
    body: '{"name":"d"}',
    tls,
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
    tls,
  });
  const issued = (await res.json()) as { certificate: string; ca: string };

  const client = await mqtt.connectAsync(broker.url, {
    ca: server.serverCaPem,
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
