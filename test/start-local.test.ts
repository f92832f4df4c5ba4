/** `npm start` brings up the whole local system: service, embedded broker, a demo device run by iotad. */

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./helpers/free-port.ts";
import { SERVER_RUNTIME_ENV } from "../src/iota-server/runtime-env.ts";

const ROOT = resolve(import.meta.dir, "..");
const data = mkdtempSync(join(tmpdir(), "iota-start-"));
afterAll(() => rmSync(data, { recursive: true, force: true }));

/** A running launcher: the process, what it printed up to "Ctrl-C stops everything", and its ports. */
interface Launched {
  launcher: ReturnType<typeof Bun.spawn> & { stdout: ReadableStream<Uint8Array> };
  out: string;
  api: number;
  mqtt: number;
  status: number;
}

/** Runs `command` (npm start, or the launcher itself) on free ports and `dataDir`, until it says all is up. */
async function launch(command: string[], dataDir: string): Promise<Launched> {
  const [api, mqtt, status] = [await freePort(), await freePort(), await freePort()];
  // Hint: without any allocator setting of the caller's, so the service's come from the launcher itself.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !(name in SERVER_RUNTIME_ENV)),
  );
  const launcher = Bun.spawn(command, {
    cwd: ROOT,
    env: {
      ...inherited,
      IOTA_DATA: dataDir,
      IOTA_LISTEN: `127.0.0.1:${api}`,
      IOTA_MQTT_LISTEN: `127.0.0.1:${mqtt}`,
      IOTAD_STATUS_LISTEN: `127.0.0.1:${status}`,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const reader = launcher.stdout.getReader();
  let out = "";
  while (!out.includes("Ctrl-C stops everything")) {
    const { value, done } = await reader.read();
    if (done)
      throw new Error(
        `${command.join(" ")} exited early (${await launcher.exited}): ${out}${await new Response(launcher.stderr).text()}`,
      );
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return { launcher, out, api, mqtt, status };
}

/** Whether the service and the agent answer at all (their /healthz), in that order. */
async function answering({ api, status }: Launched): Promise<boolean[]> {
  const probes = [`https://127.0.0.1:${api}`, `http://127.0.0.1:${status}`].map((base) =>
    fetch(`${base}/healthz`, { tls: { rejectUnauthorized: false } }).then(
      () => true,
      () => false,
    ),
  );
  return await Promise.all(probes);
}

/** Waits up to 30 s for both programs to stop answering. */
async function stopped(launched: Launched): Promise<boolean[]> {
  for (let i = 0; i < 150 && (await answering(launched)).some(Boolean); i++) await Bun.sleep(200);
  return await answering(launched);
}

test("npm start runs service, broker and an agent whose /healthz answers 200, and Ctrl-C stops them all", async () => {
  // Hint: its own session, so the test can press Ctrl-C the way a terminal does: SIGINT to the whole group.
  const launched = await launch(["setsid", "npm", "start", "--silent"], data);
  const { launcher, out, api, mqtt, status } = launched;
  expect(out).toContain(`http://127.0.0.1:${status}/status`);
  expect(out).toContain(`mqtts://127.0.0.1:${mqtt}`);
  // The demo shows the real path: HTTPS with the service's own trust, whose fingerprint it prints.
  expect(out).toContain(`https://127.0.0.1:${api}`);
  expect(out).toContain(`dashboard   https://127.0.0.1:${api}/ui/`);
  const serverCa = readFileSync(join(data, "server-ca.pem"), "utf8");
  expect(out).toContain(`SHA-256 fingerprint ${/SHA-256 fingerprint ([0-9A-F:]+)/.exec(out)?.[1]}`);
  const config = JSON.parse(readFileSync(join(data, "demo", "iotad.json"), "utf8")) as {
    server: string;
    serverCa: string;
  };
  expect(config.server).toBe(`https://127.0.0.1:${api}`);
  expect(config.serverCa).toBe(serverCa);

  const health = await fetch(`http://127.0.0.1:${status}/healthz`);
  expect(health.status).toBe(200);
  const state = (await (await fetch(`http://127.0.0.1:${status}/status`)).json()) as {
    state: string;
    device: string;
    mqtt: { state: string };
  };
  expect(state).toMatchObject({ state: "ready", device: "demo-device-1" });
  expect(state.mqtt.state).toBe("connected");

  // The service recorded the same certificate the agent holds.
  const token = readFileSync(join(data, "admin-token"), "utf8").trim();
  const device = (await (
    await fetch(`https://127.0.0.1:${api}/v1/groups/demo/devices/demo-device-1`, {
      headers: { authorization: `Bearer ${token}` },
      tls: { ca: serverCa },
    })
  ).json()) as { state: string; serial: string };
  expect(device.state).toBe("provisioned");
  expect((state as unknown as { serial: string }).serial).toBe(device.serial);
  expect(statSync(join(data, "demo", "iotad.json")).mode & 0o777).toBe(0o600);
  // The service runs with the packaged service's allocator setting.
  const serverPid = JSON.parse(readFileSync(join(data, "iota-server.lock"), "utf8")).pid as number;
  const environ = readFileSync(`/proc/${serverPid}/environ`, "utf8").split("\0");
  for (const [name, value] of Object.entries(SERVER_RUNTIME_ENV))
    expect(environ).toContain(`${name}=${value}`);

  process.kill(-launcher.pid, "SIGINT");
  await launcher.exited;
  expect(await stopped(launched)).toEqual([false, false]);
  // The agent stopped first and told the still running broker it is going offline.
  expect(readFileSync(join(data, "iotad.log"), "utf8")).toContain(
    "mqtt: announced offline on iota/demo/demo-device-1/status",
  );
}, 90_000);

test("a launcher killed outright (SIGKILL) does not leave its programs running", async () => {
  const killed = mkdtempSync(join(tmpdir(), "iota-start-killed-"));
  // Hint: the launcher itself, not npm, so the test kills the very process that started the programs.
  const launched = await launch([process.execPath, "scripts/start-local.ts"], killed);
  try {
    expect(await answering(launched)).toEqual([true, true]);
    launched.launcher.kill("SIGKILL");
    await launched.launcher.exited;
    expect(await stopped(launched)).toEqual([false, false]);
  } finally {
    launched.launcher.kill("SIGKILL");
    rmSync(killed, { recursive: true, force: true });
  }
}, 90_000);
