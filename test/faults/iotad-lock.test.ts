/**
 * The compiled iotad, several processes on one data folder against a real iota-server: of three `iotad provision`
 * started at once exactly one provisions, the others are refused (exit 5) by the data folder's lock, naming it,
 * and leave nothing behind; a lock left by a process that is gone is taken over; a live one refuses and
 * `check-config` shows it; SIGTERM ends a one-shot and releases the lock.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deviceToken } from "../../src/core/token.ts";
import { keyMatches, parseCertificate } from "../../src/iotad/identity.ts";
import { listenAsBroker } from "../helpers/agent-support.ts";
import type { ServerProcess } from "../helpers/server-process.ts";
import { buildCompiledAgent, startServiceWithGroup, writeAgentConfig } from "./agent-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iotad-lock-"));
const GROUP = "locks";
let bin = "";
let server: ServerProcess;
let slow: Server;
let slowUrl = "";
let secret = "";
/** Connections the slow path holds until {@link release}; while `holding`, new ones wait too. */
let holding = false;
const held: Array<() => void> = [];
/** Passes the held connections on to the service, and those that come later at once. */
function release(): void {
  holding = false;
  for (const pass of held.splice(0)) pass();
}

beforeAll(async () => {
  bin = buildCompiledAgent(tmp);
  ({ server, secret } = await startServiceWithGroup(tmp, GROUP, ["lamp-1", "lamp-2"]));
  // Hint: a TCP relay that holds connections until the test releases them, so the first provisioning is still
  // running when the others start, however slowly the machine starts them.
  const port = Number(new URL(server.url).port);
  slow = createServer((client) => {
    client.pause();
    const pass = () => {
      if (client.destroyed) return;
      const upstream = connect(port, "127.0.0.1");
      client.pipe(upstream).pipe(client);
      client.resume();
      upstream.on("error", () => client.destroy());
    };
    client.on("error", () => {});
    if (holding) held.push(pass);
    else pass();
  });
  const relay = new URL(await listenAsBroker(slow));
  slowUrl = `https://127.0.0.1:${relay.port}`;
}, 120_000);

afterAll(async () => {
  release();
  slow?.close();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const configFor = (device: string, dataDir: string, url = server.url) =>
  writeAgentConfig(tmp, `${device}-${url === server.url ? "direct" : "slow"}`, {
    server: url,
    serverCa: server.serverCaPem,
    group: GROUP,
    device,
    token: deviceToken(secret, GROUP, device),
    dataDir,
  });

interface Ran {
  pid: number;
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

/** Starts `bin ...args`; resolves once it exited, with its output. */
function run(args: string[], onStart?: (pid: number) => void): Promise<Ran> {
  const proc = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  proc.stdout?.on("data", (d) => (stdout += d));
  proc.stderr?.on("data", (d) => (stderr += d));
  onStart?.(proc.pid as number);
  return new Promise((done) =>
    proc.once("close", (code, signal) =>
      done({ pid: proc.pid as number, code, signal, stdout, stderr }),
    ),
  );
}

/** A pid no process has: one of a process that ran and was reaped. */
const deadPid = () => spawnSync(process.execPath, ["-e", "0"]).pid as number;

async function assertMatchingPair(dir: string): Promise<string> {
  const cert = parseCertificate(readFileSync(join(dir, "cert.pem"), "utf8"));
  if (cert === undefined) throw new Error("no certificate");
  expect(await keyMatches(readFileSync(join(dir, "key.pem"), "utf8"), cert)).toBe(true);
  return cert.serialNumber.toLowerCase();
}

const dataDir = join(tmp, "data");

test("three `iotad provision` at once on one data folder: one provisions, the others are refused by the lock and leave nothing", async () => {
  const config = configFor("lamp-1", dataDir, slowUrl);
  holding = true;
  const started = [1, 2, 3].map(() => run(["provision", "--config", config]));
  // The service is reached only once two of them have ended (or after 30 s, when the lock failed to refuse them).
  let ended = 0;
  for (const one of started) void one.then(() => ended++);
  const deadline = Date.now() + 30_000;
  while (ended < 2 && Date.now() < deadline) await Bun.sleep(20);
  release();
  const runs = await Promise.all(started);
  const winners = runs.filter((r) => r.code === 0);
  expect(winners.length).toBe(1);
  const winner = winners[0] as Ran;
  expect(winner.stdout).toContain(`for ${GROUP}/lamp-1, valid until`);
  for (const loser of runs.filter((r) => r !== winner)) {
    expect(loser.code).toBe(5);
    expect(loser.stdout).toBe("");
    expect(loser.stderr.trimEnd().split("\n").length).toBe(1);
    expect(loser.stderr).toStartWith(
      `iotad: data folder ${dataDir} is in use by pid ${winner.pid} (iotad provision --config ${config}, since 20`,
    );
    expect(loser.stderr).toEndWith(
      "; one iotad at a time may use it, so iotad provision changed nothing: wait for it to finish, then try again\n",
    );
  }
  expect(readdirSync(dataDir).sort()).toEqual(["ca.pem", "cert.pem", "identity.json", "key.pem"]);
  const serial = await assertMatchingPair(dataDir);
  expect(winner.stdout).toContain(`certificate ${serial} `);
  const record = (await server.adminCall("GET", `/v1/groups/${GROUP}/devices/lamp-1`)).json;
  expect(record).toMatchObject({ state: "provisioned", serial });
}, 60_000);

test("a lock left by a process that is gone is taken over; a live holder refuses, and check-config shows it", async () => {
  const config = configFor("lamp-1", dataDir);
  const lock = join(dataDir, "iotad.lock");
  const gone = deadPid();
  writeFileSync(lock, `${JSON.stringify({ pid: gone, command: "iotad run", since: "t0" })}\n`);
  const stale = spawnSync(bin, ["check-config", "--config", config], { encoding: "utf8" });
  expect(stale.status).toBe(0);
  expect(stale.stdout).toContain(`data folder lock left by pid ${gone} (iotad run, since t0)`);

  const renewed = await run(["renew", "--config", config]);
  expect(renewed.stderr).toContain(
    `data folder ${dataDir}: took over the lock of pid ${gone} (iotad run, since t0): pid ${gone} no longer runs`,
  );
  expect(renewed.code).toBe(0);
  expect(existsSync(lock)).toBe(false);
  const serial = await assertMatchingPair(dataDir);

  // This test's own process stands for an agent that holds the lock but does not answer on its status address yet.
  const holder = { pid: process.pid, command: `iotad run --config ${config}`, since: "t1" };
  writeFileSync(lock, `${JSON.stringify(holder)}\n`);
  const before = readdirSync(dataDir).map((name) => readFileSync(join(dataDir, name), "utf8"));
  for (const command of ["renew", "provision"]) {
    const refused = await run([command, "--config", config]);
    expect(refused.code).toBe(5);
    expect(refused.stderr).toBe(
      `iotad: data folder ${dataDir} is in use by pid ${process.pid} (iotad run --config ${config}, since t1); one iotad at a time may use it, so iotad ${command} changed nothing: it is the running agent: to ${command} now, send it SIGHUP (\`systemctl reload iotad\`, or \`kill -HUP ${process.pid}\`)\n`,
    );
  }
  const second = await run(["run", "--config", config]);
  expect(second.code).toBe(5);
  expect(second.stderr).toContain("an agent already runs for it");
  expect(readdirSync(dataDir).map((name) => readFileSync(join(dataDir, name), "utf8"))).toEqual(
    before,
  );
  const held = spawnSync(bin, ["check-config", "--config", config], { encoding: "utf8" });
  expect(held.stdout).toContain(`data folder in use by pid ${process.pid} (iotad run --config`);
  rmSync(lock);
  expect(await assertMatchingPair(dataDir)).toBe(serial);
}, 60_000);

test("SIGTERM ends a one-shot provision where it stands and releases the lock", async () => {
  const dir = join(tmp, "data-2");
  const config = configFor("lamp-2", dir, slowUrl);
  const lock = join(dir, "iotad.lock");
  let pid = 0;
  // Hint: its request to the service is held, so SIGTERM comes while it provisions.
  holding = true;
  const running = run(["provision", "--config", config], (p) => {
    pid = p;
  });
  const started = Date.now();
  // Hint: the lock is created, then its record written: an empty file is a lock being taken this instant.
  const record = () => (existsSync(lock) ? readFileSync(lock, "utf8") : "");
  while (!record().endsWith("\n") && Date.now() - started < 10_000) await Bun.sleep(10);
  expect(JSON.parse(record()).pid).toBe(pid);
  process.kill(pid, "SIGTERM");
  const stopped = await running;
  release();
  expect(stopped.code).toBe(143);
  expect(stopped.stderr).toContain("SIGTERM: iotad provision stopped before it finished");
  expect(existsSync(lock)).toBe(false);
  // The next one provisions (with the key the stopped one saved, if it got that far).
  const next = await run(["provision", "--config", configFor("lamp-2", dir)]);
  expect(next.code).toBe(0);
  await assertMatchingPair(dir);
}, 60_000);
