/**
 * Golden images with real processes: a real iota-server over HTTPS, the real iotactl writing one golden
 * config, and the compiled iotad on several "boards" that each hold a copy of it and their own
 * machine-id. Registered names provision and unregistered ones are refused (registered), new names are
 * created within the pattern and the hourly limit (any), a restart comes back as the same device, a
 * changed machine-id keeps the pinned name, and squatting shows in the real device's status until an
 * operator rotates the secret and resets the name.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCsrPem, generateDeviceKey } from "../src/core/csr.ts";
import {
  type AgentProcess,
  buildCompiledAgent,
  startCompiledAgent,
} from "./faults/agent-process.ts";
import { BUN, ROOT, startServerProcess, type ServerProcess } from "./helpers/server-process.ts";
import { run } from "./iotactl-support.ts";

const tmp = join(tmpdir(), `iota-golden-${process.pid}`);
let bin = "";
let server: ServerProcess;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  mkdirSync(tmp, { recursive: true });
  bin = buildCompiledAgent(tmp);
  server = await startServerProcess({ tls: true, data: join(tmp, "server") });
  writeFileSync(join(tmp, "server-ca.pem"), server.serverCaPem);
}, 180_000);

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** The real iotactl (from source), pinned to the server's CA, in the test folder. */
async function iotactl(args: string[], stdin?: string) {
  const r = await run([BUN, join(ROOT, "src/iotactl/main.ts"), ...args], {
    env: { IOTA_SERVER: server.url, IOTA_TOKEN: server.token(), IOTA_CA_FILE: "server-ca.pem" },
    cwd: tmp,
    ...(stdin === undefined ? {} : { stdin }),
  });
  return r;
}

/** `iotactl gen config --golden` for `group`: the one config every board gets. */
async function goldenConfig(group: string, prefix: string, secretFile: string): Promise<string> {
  const out = `golden-${group}-${prefix}${Math.random().toString(36).slice(2, 8)}.json`;
  const r = await iotactl(
    ["gen", "config", "-g", group, "--golden", "--device-from", "file:machine-id"].concat([
      "--prefix",
      prefix,
      "--secret-file",
      secretFile,
      "--status-listen",
      "127.0.0.1:0",
      "--data-dir",
      "data",
      "--out",
      out,
    ]),
  );
  expect(r.code).toBe(0);
  return join(tmp, out);
}

/** A board: its own folder holding a copy of the golden config and its machine-id. */
function board(name: string, golden: string, machineId: string): { dir: string; config: string } {
  const dir = join(tmp, "boards", name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(golden, join(dir, "config.json"));
  writeFileSync(join(dir, "machine-id"), `${machineId}\n`);
  return { dir, config: join(dir, "config.json") };
}

function boot(config: string): AgentProcess {
  const agent = startCompiledAgent(bin, config);
  agents.push(agent);
  return agent;
}

async function shutdown(agent: AgentProcess): Promise<void> {
  await agent.stop();
  agents.splice(agents.indexOf(agent), 1);
}

const machineId = () => randomBytes(16).toString("hex");

async function device(group: string, name: string): Promise<Record<string, unknown> | undefined> {
  const r = await server.adminCall("GET", `/v1/groups/${group}/devices/${name}`);
  return r.status === 200 ? (r.json as Record<string, unknown>) : undefined;
}

describe("registered: a golden image provisions only names created in advance", () => {
  const ids = [machineId(), machineId(), machineId(), machineId()];
  const name = (i: number) => `dev-${ids[i]}`;
  let golden = "";

  beforeAll(async () => {
    const secret = await iotactl(["add", "group", "line-7", "--validity", "1h"]);
    writeFileSync(join(tmp, "line-7.secret"), secret.stdout);
    // The factory's list: machine-ids 0, 1 and 3 are registered, 2 is not.
    writeFileSync(join(tmp, "ids.txt"), `${ids[0]}\n${ids[1]}\n${ids[3]}\n`);
    const added = await iotactl([
      "add",
      "device",
      "-g",
      "line-7",
      "--from-file",
      "ids.txt",
      "--normalize",
      "--prefix",
      "dev-",
    ]);
    expect(added.stdout).toBe("created: 3\nalready existed: 0\ninvalid: 0\n");
    golden = await goldenConfig("line-7", "dev-", "line-7.secret");
  }, 60_000);

  test("check-config on a board prints the name its machine-id gives", async () => {
    const b = board("check", golden, ids[0] as string);
    const r = await run([bin, "check-config", "--config", b.config], { env: {}, cwd: b.dir });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`line-7/${name(0)} at ${server.url}, trusting serverCa only`);
    expect(r.stdout).toContain(`device name: ${name(0)}, from file:machine-id with prefix "dev-"`);
    // A real sysfs: the loopback interface has no MAC of its own, which is a clear error, exit 2.
    const lo = join(b.dir, "mac-lo.json");
    const config = JSON.parse(readFileSync(b.config, "utf8"));
    writeFileSync(lo, JSON.stringify({ ...config, device: { from: "mac:lo" } }));
    const refused = await run([bin, "check-config", "--config", lo], { env: {}, cwd: b.dir });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('field "device.from": mac:lo gives no device name');
    expect(refused.stderr).toContain("one character repeated");
  }, 30_000);

  test("every registered board becomes its own provisioned device; an unregistered one is refused, clearly", async () => {
    const boards = [0, 1, 2].map((i) => board(`reg-${i}`, golden, ids[i] as string));
    const running = boards.map((b) => boot(b.config));
    for (const i of [0, 1]) {
      const s = await (running[i] as AgentProcess).until((x) => x.state === "ready", `board ${i}`);
      expect(s.device).toBe(name(i));
      expect(s.deviceSource).toMatchObject({
        from: "file:machine-id",
        prefix: "dev-",
        resolved: name(i),
        mismatch: false,
      });
      // The name is pinned once provisioned, and /status says so without a restart.
      await (running[i] as AgentProcess).until(
        (x) => (x.deviceSource as { pinned?: unknown } | undefined)?.pinned === name(i),
        `board ${i}'s pinned name in /status`,
      );
      expect(await device("line-7", name(i))).toMatchObject({
        state: "provisioned",
        serial: s.serial,
      });
    }
    const refused = await (running[2] as AgentProcess).until(
      (x) => x.state === "error",
      "the unregistered board's refusal",
    );
    expect(refused.device).toBe(name(2));
    expect(String(refused.lastError)).toContain("404");
    expect(String(refused.lastError)).toContain(
      "the group provisions only devices created in advance",
    );
    expect(String(refused.lastError)).toContain(
      "this device's name is not registered in its group",
    );
    expect(refused.certificateValid).toBe(false);
    expect(await device("line-7", name(2))).toBeUndefined();
    await shutdown(running[2] as AgentProcess);
    // Each board pinned its name in its own data folder.
    expect(
      JSON.parse(readFileSync(join(boards[0]?.dir ?? "", "data/device.json"), "utf8")),
    ).toEqual({
      group: "line-7",
      device: name(0),
      from: "file:machine-id",
    });
    for (const agent of running.slice(0, 2)) await shutdown(agent);
  }, 90_000);

  test("the same board booted again is the same device, without provisioning again", async () => {
    const b = board("reg-0", golden, ids[0] as string);
    const before = await device("line-7", name(0));
    const agent = boot(b.config);
    const s = await agent.until((x) => x.state === "ready", "the restart");
    expect(s.serial).toBe(before?.serial);
    expect(agent.log()).not.toContain("provisioning line-7");
    expect(await device("line-7", name(0))).toEqual(before);
    await shutdown(agent);
  }, 60_000);

  test("a changed machine-id (a replaced part): the pinned name stays, the mismatch is reported", async () => {
    const b = board("reg-1", golden, machineId());
    const before = await device("line-7", name(1));
    const agent = boot(b.config);
    const s = await agent.until((x) => x.state === "ready", "the start after the change");
    expect(s.device).toBe(name(1));
    expect(s.serial).toBe(before?.serial);
    expect(s.deviceSource).toMatchObject({ pinned: name(1), mismatch: true });
    expect(String((s.deviceSource as { warning: string }).warning)).toContain(
      `but this device was provisioned as ${name(1)}: it stays ${name(1)}`,
    );
    expect(agent.log()).toContain(`it stays ${name(1)}`);
    const metrics = await (
      await fetch(
        String(/status endpoint on (\S+)/.exec(agent.log())?.[1]).replace(/\/?$/, "/metrics"),
      )
    ).text();
    expect(metrics).toContain("iotad_device_name_mismatch 1");
    await shutdown(agent);
    const r = await run([bin, "check-config", "--config", b.config], { env: {}, cwd: b.dir });
    expect(r.stdout).toContain(
      `device name: ${name(1)}, pinned in ${join(b.dir, "data")} when provisioned`,
    );
    expect(r.stdout).toContain("warning: the device name source file:machine-id now gives");
  }, 60_000);

  test("squatting: a copy of the image used first shows as 409 in the real board's status; rotate and reset recover it", async () => {
    // Someone with the golden config's secret provisions board 3's registered name with their own key.
    const thief = JSON.parse(readFileSync(golden, "utf8")) as { secret: string };
    const keys = await generateDeviceKey();
    const csr = await createCsrPem(keys, name(3));
    const squat = await server.fetch("/v1/provision", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ group: "line-7", device: name(3), csr, secret: thief.secret }),
    });
    expect(squat.status).toBe(201);
    const b = board("reg-3", golden, ids[3] as string);
    const agent = boot(b.config);
    const s = await agent.until((x) => x.state === "error", "the real board's refusal");
    expect(String(s.lastError)).toContain("409");
    expect(String(s.lastError)).toContain(
      "this name was provisioned by another key: possible squatting",
    );
    expect(agent.log()).toContain("possible squatting");
    expect(server.output()).toMatch(/POST \/v1\/provision 409/);
    await shutdown(agent);

    // Recovery: rotate first (the leaked secret stops working), then reset the squatted name.
    const rotated = await iotactl(["rotate", "secret", "-g", "line-7"]);
    writeFileSync(join(tmp, "line-7.new-secret"), rotated.stdout);
    expect((await iotactl(["reset", "device", "-g", "line-7", name(3), "--forget-key"])).code).toBe(
      0,
    );
    const again = await server.fetch("/v1/provision", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ group: "line-7", device: name(3), csr, secret: thief.secret }),
    });
    expect(again.status).toBe(401);
    const fresh = await goldenConfig("line-7", "dev-", "line-7.new-secret");
    const recovered = boot(board("reg-3", fresh, ids[3] as string).config);
    const ok = await recovered.until((x) => x.state === "ready", "the board with the new secret");
    expect(await device("line-7", name(3))).toMatchObject({
      state: "provisioned",
      serial: ok.serial,
    });
    // Boards provisioned before the rotation renew with their certificates, unaffected.
    const old = boot(board("reg-0", golden, ids[0] as string).config);
    const first = await old.until((x) => x.state === "ready", "board 0");
    old.proc.kill("SIGHUP");
    const renewed = await old.until((x) => x.renewals === 1, "board 0's renewal");
    expect(renewed.serial).not.toBe(first.serial);
    await shutdown(old);
    await shutdown(recovered);
  }, 120_000);
});

describe("any: a golden image creates its devices within the group's pattern and hourly limit", () => {
  let golden = "";

  beforeAll(async () => {
    const secret = await iotactl(
      ["add", "group", "open-line", "--enrollment", "any", "--name-pattern", "dev-*"].concat([
        "--enroll-per-hour",
        "2",
      ]),
    );
    expect(secret.code).toBe(0);
    writeFileSync(join(tmp, "open-line.secret"), secret.stdout);
    golden = await goldenConfig("open-line", "dev-", "open-line.secret");
  }, 60_000);

  test("new names within the pattern are created and provisioned; a third in the hour waits", async () => {
    const ids = [machineId(), machineId(), machineId()];
    const running = ids.map((id, i) => boot(board(`any-${i}`, golden, id).config));
    const states = await Promise.all(
      running.map((agent, i) =>
        agent.until(
          (x) => x.state === "ready" || (x.state === "provisioning" && x.lastError !== null),
          `board ${i}`,
        ),
      ),
    );
    const ready = states.filter((s) => s.state === "ready");
    expect(ready.length).toBe(2);
    for (const s of ready)
      expect(await device("open-line", s.device as string)).toMatchObject({
        state: "provisioned",
        serial: s.serial,
        enrolledAt: expect.any(String),
      });
    const waiting = states.find((s) => s.state !== "ready");
    expect(String(waiting?.lastError)).toContain("429");
    expect(String(waiting?.lastError)).toContain("enrolled its limit of 2 new devices this hour");
    // It retries when the service said (Retry-After: the rest of the hour), not in a tight loop.
    expect(Date.parse(String(waiting?.nextRenewal)) - Date.now()).toBeGreaterThan(30 * 60_000);
    expect(await device("open-line", String(waiting?.device))).toBeUndefined();
    expect(server.output()).toContain(`enrolled device default/open-line/${ready[0]?.device}`);
    for (const agent of running) await shutdown(agent);
  }, 90_000);

  test("a name outside the pattern is refused and nothing is created", async () => {
    const other = await goldenConfig("open-line", "pc-", "open-line.secret");
    const agent = boot(board("any-outside", other, machineId()).config);
    const s = await agent.until((x) => x.state === "error", "the refusal");
    expect(String(s.lastError)).toContain(
      'the group enrolls only names matching \\"dev-*\\"'.replace(/\\/g, ""),
    );
    expect(await device("open-line", String(s.device))).toBeUndefined();
    await shutdown(agent);
  }, 60_000);
});
