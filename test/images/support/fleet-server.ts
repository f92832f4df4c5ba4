/**
 * Test support for the image tests: a real iota-server on the host's loopback with its embedded MQTT
 * broker, a group, per-device iotad configs, and a monitor device that reads retained status messages
 * with mosquitto_sub, over HTTPS from the service's own server CA, which devices pin.
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCsrPem, exportPrivateKeyPem, generateDeviceKey } from "../../../src/core/csr.ts";
import { deviceToken } from "../../../src/core/token.ts";
import { startServerProcess } from "../../helpers/server-process.ts";

/** A running iota-server with one group, seen from the host and from containers sharing its network. */
export interface FleetServer {
  /** The API URL as printed (`https://127.0.0.1:PORT`). */
  url: string;
  /** `mqtts://127.0.0.1:PORT`. */
  mqttUrl: string;
  group: string;
  /** Admin API call; throws with the answer when the status is not `expect`. */
  call(
    method: string,
    path: string,
    body: unknown,
    expect: number,
  ): Promise<Record<string, unknown>>;
  /** Creates `device` and returns its iotad config (JSON text), listening for status on `statusPort`, with `extra` fields. */
  deviceConfig(
    device: string,
    statusPort: number,
    extra?: Record<string, unknown>,
  ): Promise<string>;
  /** The device's record on the server (`state`, `serial`, ...). */
  device(device: string): Promise<Record<string, unknown>>;
  /** The retained status message of `device` (read with mosquitto_sub as the monitor device). */
  retainedStatus(device: string): Record<string, unknown>;
  stop(): Promise<void>;
}

/** Starts iota-server over HTTPS (its own server CA) with its embedded broker on loopback, and creates `group`. */
export async function startFleetServer(group: string): Promise<FleetServer> {
  const dir = mkdtempSync(join(tmpdir(), "iota-image-server-"));
  const server = await startServerProcess({
    tls: true,
    data: join(dir, "data"),
    args: ["--mqtt-listen", "127.0.0.1:0"],
  });
  const { url } = server;
  const mqttUrl = server.brokerUrl ?? "";
  // Hint: devices pin the server CA; the broker presents a certificate of it too.
  const serverCa = server.serverCaPem;
  const mqttCa = serverCa;
  const call = (method: string, path: string, body: unknown, expect: number) =>
    server.admin(method, path, body, expect);
  const created = await call("POST", "/v1/groups", { name: group, validity: "1h" }, 201);
  const secret = String(created.provisioningSecret);

  // The monitor: a device of the group, the only kind of client the broker lets read status topics.
  await call("POST", `/v1/groups/${group}/devices`, { name: "monitor" }, 201);
  const keys = await generateDeviceKey();
  const issued = await call(
    "POST",
    "/v1/provision",
    { group, device: "monitor", csr: await createCsrPem(keys, "monitor"), secret },
    201,
  );
  writeFileSync(join(dir, "monitor.key"), await exportPrivateKeyPem(keys.privateKey), {
    mode: 0o600,
  });
  writeFileSync(join(dir, "monitor.crt"), String(issued.certificate));
  writeFileSync(join(dir, "mqtt-ca.pem"), mqttCa);
  const broker = new URL(mqttUrl);

  return {
    url,
    mqttUrl,
    group,
    call,
    async deviceConfig(device, statusPort, extra = {}) {
      await call("POST", `/v1/groups/${group}/devices`, { name: device }, 201);
      const config: Record<string, unknown> = {
        server: url,
        group,
        device,
        token: deviceToken(secret, group, device),
        statusListen: `127.0.0.1:${statusPort}`,
        mqtt: { url: mqttUrl, ca: mqttCa },
        serverCa,
        ...extra,
      };
      return `${JSON.stringify(config, null, 2)}\n`;
    },
    device: (device) => call("GET", `/v1/groups/${group}/devices/${device}`, undefined, 200),
    retainedStatus(device) {
      const sub = spawnSync(
        "mosquitto_sub",
        ["-h", broker.hostname, "-p", broker.port, "-C", "1", "-W", "20"]
          .concat(["--cafile", join(dir, "mqtt-ca.pem")])
          .concat(["--cert", join(dir, "monitor.crt"), "--key", join(dir, "monitor.key")])
          .concat(["-t", `iota/${group}/${device}/status`]),
        { encoding: "utf8" },
      );
      if (sub.error)
        throw new Error(`mosquitto_sub: ${sub.error.message} (apt-get install mosquitto-clients)`);
      if (sub.status !== 0)
        throw new Error(`mosquitto_sub exited ${sub.status}: ${sub.stderr.trim()}`);
      return JSON.parse(sub.stdout) as Record<string, unknown>;
    },
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
