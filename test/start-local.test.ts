/** `npm start` brings up the whole local system: service, embedded broker, a demo device run by iotad. */

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./helpers/free-port.ts";

const ROOT = resolve(import.meta.dir, "..");
const data = mkdtempSync(join(tmpdir(), "iota-start-"));
afterAll(() => rmSync(data, { recursive: true, force: true }));

test("npm start runs service, broker and an agent whose /healthz answers 200, and Ctrl-C stops them all", async () => {
  const [api, mqtt, status] = [await freePort(), await freePort(), await freePort()];
  // Hint: its own session, so the test can press Ctrl-C the way a terminal does: SIGINT to the whole group.
  const launcher = Bun.spawn(["setsid", "npm", "start", "--silent"], {
    cwd: ROOT,
    env: {
      ...process.env,
      IOTA_DATA: data,
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
        `npm start exited early (${await launcher.exited}): ${out}${await new Response(launcher.stderr).text()}`,
      );
    out += new TextDecoder().decode(value);
  }
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

  process.kill(-launcher.pid, "SIGINT");
  await launcher.exited;
  const answers = async () => {
    const probes = [`https://127.0.0.1:${api}`, `http://127.0.0.1:${status}`].map((base) =>
      fetch(`${base}/healthz`, { tls: { rejectUnauthorized: false } }).then(
        () => true,
        () => false,
      ),
    );
    return (await Promise.all(probes)).some(Boolean);
  };
  for (let i = 0; i < 150 && (await answers()); i++) await Bun.sleep(200);
  expect(await answers()).toBe(false);
  // The agent stopped first and told the still running broker it is going offline.
  expect(readFileSync(join(data, "iotad.log"), "utf8")).toContain(
    "mqtt: announced offline on iota/demo/demo-device-1/status",
  );
}, 90_000);

test("a launcher killed outright (SIGKILL) does not leave its programs running", async () => {
  const [api, mqtt, status] = [await freePort(), await freePort(), await freePort()];
  const killed = mkdtempSync(join(tmpdir(), "iota-start-killed-"));
  // Hint: the launcher itself, not npm, so the test kills the very process that started the programs.
  const launcher = Bun.spawn([process.execPath, "scripts/start-local.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      IOTA_DATA: killed,
      IOTA_LISTEN: `127.0.0.1:${api}`,
      IOTA_MQTT_LISTEN: `127.0.0.1:${mqtt}`,
      IOTAD_STATUS_LISTEN: `127.0.0.1:${status}`,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const reader = launcher.stdout.getReader();
    let out = "";
    while (!out.includes("Ctrl-C stops everything")) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the launcher exited early (${await launcher.exited}): ${out}`);
      out += new TextDecoder().decode(value);
    }
    const answers = async () => {
      const probes = [`https://127.0.0.1:${api}`, `http://127.0.0.1:${status}`].map((base) =>
        fetch(`${base}/healthz`, { tls: { rejectUnauthorized: false } }).then(
          (r) => r.status === 200,
          () => false,
        ),
      );
      return await Promise.all(probes);
    };
    expect(await answers()).toEqual([true, true]);
    launcher.kill("SIGKILL");
    await launcher.exited;
    for (let i = 0; i < 150 && (await answers()).some(Boolean); i++) await Bun.sleep(200);
    expect(await answers()).toEqual([false, false]);
  } finally {
    launcher.kill("SIGKILL");
    rmSync(killed, { recursive: true, force: true });
  }
}, 90_000);
