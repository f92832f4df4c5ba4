/**
 * Test support for the image tests: a real iota-server on the host's loopback with its embedded MQTT
 * broker, a group, per-device iotad configs, and a monitor device that reads retained status messages
 * with mosquitto_sub. Works with a plain-HTTP server and with one that serves HTTPS from its own
 * server CA (`DATA/server-ca.pem`), whichever the server prints.
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCsrPem, exportPrivateKeyPem, generateDeviceKey } from "../../../src/core/csr.ts";
import { deviceToken } from "../../../src/core/token.ts";

/** A running iota-server with one group, seen from the host and from containers sharing its network. */
export interface FleetServer {
  /** The API URL as printed (`http://` or `https://` 127.0.0.1). */
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

const REPO = join(import.meta.dir, "../../..");

/** Starts `bun src/iota-server/main.ts --listen 127.0.0.1:0 --mqtt-listen 127.0.0.1:0` and creates `group`. */
export async function startFleetServer(group: string): Promise<FleetServer> {
  const dir = mkdtempSync(join(tmpdir(), "iota-image-server-"));
  const data = join(dir, "data");
  const child: ChildProcess = spawn(
    join(REPO, "node_modules/.bin/bun"),
    ["src/iota-server/main.ts", "--data", data, "--listen", "127.0.0.1:0"].concat([
      "--mqtt-listen",
      "127.0.0.1:0",
    ]),
    { cwd: REPO, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const [url, mqttUrl] = await new Promise<[string, string]>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const api = /listening on (https?:\/\/\S+)/.exec(output)?.[1];
      const mqtt = /mqtt broker: (mqtts?:\/\/\S+)/.exec(output)?.[1];
      if (api && mqtt) resolve([api, mqtt]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`iota-server exited (${code}) before listening:\n${output}`)),
    );
  });
  // Hint: an HTTPS server writes its own CA; devices then pin it, and its broker presents it too.
  const serverCaPath = join(data, "server-ca.pem");
  const serverCa = existsSync(serverCaPath) ? readFileSync(serverCaPath, "utf8") : undefined;
  const tls = serverCa === undefined ? {} : { tls: { ca: serverCa } };
  const adminToken = readFileSync(join(data, "admin-token"), "utf8").trim();

  const call = async (method: string, path: string, body: unknown, expect: number) => {
    const init: RequestInit & { tls?: { ca: string } } = {
      method,
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
      ...tls,
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(`${url}${path}`, init);
    const text = await res.text();
    if (res.status !== expect)
      throw new Error(`${method} ${path}: expected ${expect}, got ${res.status}: ${text}`);
    return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
  };
  const created = await call("POST", "/v1/groups", { name: group, validity: "1h" }, 201);
  const secret = String(created.provisioningSecret);
  const tenantCa = await (await fetch(`${url}/v1/ca`, tls)).text();
  const mqttCa = serverCa ?? tenantCa;

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
        ...extra,
      };
      if (serverCa !== undefined) config.serverCa = serverCa;
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
      if (child.exitCode === null) {
        const exited = new Promise((done) => child.once("exit", done));
        child.kill("SIGTERM");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
