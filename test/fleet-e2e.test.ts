/**
 * Fleet operations end to end, with real processes: iota-server with its embedded broker, two compiled iotad
 * agents, and iotactl. `iotactl status -g G --json` shows both agents online; once one stops it shows one
 * online within 10 s; the same counts are in `GET /metrics`.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deviceToken } from "../src/core/token.ts";
import type { FleetStatus } from "../src/core/fleet.ts";
import { BUN, ROOT, startServerProcess, type ServerProcess } from "./helpers/server-process.ts";

const GROUP = "e2e-fleet";
const DEVICES = ["lamp-1", "lamp-2"];
const tmp = mkdtempSync(join(tmpdir(), "iota-fleet-e2e-"));
const iotad = join(tmp, "iotad");
let server: ServerProcess;
const agents = new Map<string, { proc: ChildProcess; log: () => string }>();

/** `iotactl status -g GROUP --json` as a process, trusting the server CA (IOTA_CA_FILE). */
function iotactlStatus(): FleetStatus {
  const run = spawnSync(BUN, [join(ROOT, "src/iotactl/main.ts"), "status", "-g", GROUP, "--json"], {
    cwd: tmp,
    encoding: "utf8",
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: tmp,
      XDG_CONFIG_HOME: join(tmp, "xdg"),
      IOTA_SERVER: server.url,
      IOTA_TOKEN: server.token(),
      IOTA_CA_FILE: join(server.data, "server-ca.pem"),
    },
  });
  if (run.status !== 0) throw new Error(`iotactl status failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as FleetStatus;
}

/** The `/metrics` samples of the group, by metric name. */
async function groupMetrics(): Promise<Record<string, number>> {
  const res = await server.fetch("/metrics", {
    headers: { authorization: `Bearer ${server.token()}` },
  });
  const text = await res.text();
  const samples: Record<string, number> = {};
  for (const line of text.split("\n")) {
    const match = /^(iota_devices_online|iota_devices_offline)\{group="([^"]+)"\} (\d+)$/.exec(
      line,
    );
    if (match?.[2] === GROUP) samples[match[1] ?? ""] = Number(match[3]);
  }
  return samples;
}

/** Polls `check` until it holds, failing after `limitMs` with what it saw last. */
async function within<T>(
  limitMs: number,
  what: string,
  read: () => T | Promise<T>,
  ok: (v: T) => boolean,
) {
  const deadline = Date.now() + limitMs;
  let last: T = await read();
  while (!ok(last)) {
    if (Date.now() > deadline)
      throw new Error(
        `${what}: not within ${limitMs / 1000} s; last seen ${JSON.stringify(last)}\n${[...agents.values()].map((a) => a.log()).join("\n")}`,
      );
    await Bun.sleep(250);
    last = await read();
  }
  return last;
}

beforeAll(async () => {
  const build = spawnSync(
    BUN,
    ["build", "--compile", join(ROOT, "src/iotad/main.ts"), "--outfile", iotad],
    { cwd: ROOT, encoding: "utf8" },
  );
  if (build.status !== 0) throw new Error(`bun build --compile failed:\n${build.stderr}`);
  server = await startServerProcess({ tls: true, args: ["--mqtt-listen", "127.0.0.1:0"] });
  if (!server.brokerUrl)
    throw new Error(`no broker URL in the server's output:\n${server.output()}`);
  const group = await server.admin("POST", "/v1/groups", { name: GROUP }, 201);
  await server.admin("POST", `/v1/groups/${GROUP}/devices`, { names: DEVICES }, 200);
  for (const device of DEVICES) {
    const config = join(tmp, `${device}.json`);
    writeFileSync(
      config,
      JSON.stringify({
        server: server.url,
        serverCa: server.serverCaPem,
        group: GROUP,
        device,
        token: deviceToken(String(group.provisioningSecret), GROUP, device),
        dataDir: join(tmp, device),
        // Hint: the status endpoint is not used here; port 0 lets the OS pick one no other process holds.
        statusListen: "127.0.0.1:0",
        mqtt: { url: server.brokerUrl, ca: server.serverCaPem },
      }),
      { mode: 0o600 },
    );
    const proc = spawn(iotad, ["run", "--config", config], { stdio: ["ignore", "pipe", "pipe"] });
    let log = "";
    proc.stdout?.on("data", (d) => (log += d));
    proc.stderr?.on("data", (d) => (log += d));
    agents.set(device, { proc, log: () => `--- ${device} ---\n${log}` });
  }
}, 180_000);

afterAll(async () => {
  for (const { proc } of agents.values()) if (proc.exitCode === null) proc.kill("SIGKILL");
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test("iotactl status shows both agents online, then one within 10 s of stopping the other; /metrics agrees", async () => {
  // Provisioning and the first MQTT connection take a moment; the promise under test is the 10 s below.
  const both = await within(60_000, "two online", iotactlStatus, (s) => s.online === 2);
  expect(both.devices).toEqual({ total: 2, created: 0, provisioned: 2, revoked: 0 });
  expect(both.offline).toBe(0);
  expect(await groupMetrics()).toEqual({ iota_devices_online: 2, iota_devices_offline: 0 });

  const stopped = agents.get("lamp-2")?.proc;
  if (!stopped) throw new Error("lamp-2 did not start");
  const exited = new Promise((resolve) => stopped.once("exit", resolve));
  stopped.kill("SIGTERM");
  const after = await within(10_000, "one online", iotactlStatus, (s) => s.online === 1);
  expect(after.offline).toBe(1);
  await exited;
  expect(await groupMetrics()).toEqual({ iota_devices_online: 1, iota_devices_offline: 1 });
  const lamp2 = await server.admin("GET", `/v1/groups/${GROUP}/devices/lamp-2`, undefined, 200);
  expect(lamp2.online).toBe(false);
  expect(Date.parse(String(lamp2.seenAt))).toBeGreaterThan(Date.parse(both.at));

  // A device that vanishes without a word (power cut) shows offline through its last will, within 10 s too.
  agents.get("lamp-1")?.proc.kill("SIGKILL");
  const none = await within(10_000, "none online", iotactlStatus, (s) => s.online === 0);
  expect(none.offline).toBe(2);
}, 120_000);
