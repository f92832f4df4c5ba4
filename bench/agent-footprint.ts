/**
 * Agent footprint benchmark: size, start-to-ready time, idle memory, idle CPU and idle wake-ups of the
 * compiled iotad and of its Node.js bundle, each against a real iota-server with its embedded MQTT broker.
 */

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { deviceToken } from "../src/core/token.ts";
import { printTable, processCpuSeconds } from "./load.ts";
import { startServerProcess } from "../test/helpers/server-process.ts";

/** Benchmark knobs: idle window and fresh starts per artifact (the median start is reported). */
export interface FootprintOptions {
  idleSeconds: number;
  starts: number;
}

const DEFAULTS: FootprintOptions = { idleSeconds: 60, starts: 5 };
const ROOT = resolve(import.meta.dir, "..");
const BUN = process.execPath;
/** Extra environment for the agents, e.g. `BENCH_AGENT_ENV='{"BUN_GC_TIMER_DISABLE":"1"}'` to test a runtime knob. */
const AGENT_ENV = JSON.parse(process.env.BENCH_AGENT_ENV ?? "{}") as Record<string, string>;

/** One way of shipping iotad: how to start it and the file(s) that ship. */
interface Artifact {
  name: string;
  file: string;
  command: (config: string) => [string, string[]];
}

/** What one artifact measured. */
interface Footprint {
  name: string;
  bytes: number;
  gzipBytes: number;
  readyMs: number[];
  announcedMs: number[];
  idle: IdleSample;
}

/** Idle-minute figures of one process. */
interface IdleSample {
  rssAnonKb: number;
  rssFileKb: number;
  cpuMs: number;
  /** Voluntary context switches of the main thread (/proc/PID/status) over the window. */
  wakeupsMain: number;
  /** The same summed over every thread alive at both ends of the window (/proc/PID/task/TID/status). */
  wakeupsAll: number;
  threads: number;
}

function build(out: string): Artifact[] {
  const run = (args: string[]) => {
    const r = spawnSync(BUN, args, { cwd: ROOT, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`bun ${args.join(" ")}: ${r.stderr}`);
  };
  const compiled = join(out, "iotad");
  const bundle = join(out, "iotad.mjs");
  run([
    "build",
    "--compile",
    "--minify",
    "--bytecode",
    "--format=esm",
    "src/iotad/main.ts",
    "--outfile",
    compiled,
  ]);
  run(["build", "--target=node", "src/iotad/main.ts", "--outfile", bundle]);
  const node = spawnSync("node", ["--version"], { encoding: "utf8" }).stdout.trim();
  return [
    {
      name: "iotad (bun --compile)",
      file: compiled,
      command: (config) => [compiled, ["run", "--config", config]],
    },
    {
      name: `iotad.mjs (node ${node})`,
      file: bundle,
      command: (config) => ["node", [bundle, "run", "--config", config]],
    },
  ];
}

/** Fields of /proc/PID/status as numbers (kB values without the unit). */
function procStatus(path: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^(\w+):\s+(\d+)/.exec(line);
    if (match) fields.set(match[1] ?? "", Number(match[2]));
  }
  return fields;
}

/** Voluntary context switches per live thread (tid → count); the main thread's tid is the pid. */
function wakeups(pid: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      counts.set(
        task,
        procStatus(`/proc/${pid}/task/${task}/status`).get("voluntary_ctxt_switches") ?? 0,
      );
    } catch {
      // Hint: a thread may end between the listing and the read.
    }
  }
  return counts;
}

/** Wake-ups between two samples: of the main thread, and of every thread alive at both (threads come and go). */
function wakeupsBetween(
  pid: number,
  before: Map<string, number>,
  after: Map<string, number>,
): { main: number; all: number; threads: number } {
  let all = 0;
  for (const [tid, count] of after) all += count - (before.get(tid) ?? count);
  return {
    main: (after.get(String(pid)) ?? 0) - (before.get(String(pid)) ?? 0),
    all,
    threads: after.size,
  };
}

/** The server under the agents: iota-server with the embedded broker, on loopback. */
async function startServer(dir: string) {
  const server = await startServerProcess({
    tls: true,
    data: join(dir, "server"),
    args: ["--mqtt-listen", "127.0.0.1:0"],
  });
  return {
    process: server,
    url: server.url,
    mqttUrl: server.brokerUrl ?? "",
    serverCa: server.serverCaPem,
    fetch: server.fetch,
    admin: { authorization: `Bearer ${server.token()}`, "content-type": "application/json" },
  };
}

function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  await exited;
}

/** A started agent and the milliseconds from spawn to provisioned (`ready`) and to announced (MQTT connected). */
interface StartedAgent {
  child: ChildProcess;
  readyMs: number;
  announcedMs: number;
}

/** Starts one agent for a fresh device and polls its status endpoint until it is ready and announced. */
async function startAgent(
  dir: string,
  artifact: Artifact,
  server: Awaited<ReturnType<typeof startServer>>,
  secret: string,
  ca: string,
  n: number,
): Promise<StartedAgent> {
  const device = `agent-${n}`;
  const created = await server.fetch("/v1/groups/footprint/devices", {
    method: "POST",
    headers: server.admin,
    body: JSON.stringify({ name: device }),
  });
  if (created.status !== 201)
    throw new Error(`creating ${device}: ${created.status} ${await created.text()}`);
  const port = freePort();
  const config = join(dir, `${device}.json`);
  const settings = {
    server: server.url,
    serverCa: server.serverCa,
    group: "footprint",
    device,
    token: deviceToken(secret, "footprint", device),
    dataDir: join(dir, device),
    statusListen: `127.0.0.1:${port}`,
    mqtt: { url: server.mqttUrl, ca },
  };
  writeFileSync(config, JSON.stringify(settings));
  const [command, args] = artifact.command(config);
  const t0 = performance.now();
  const child = spawn(command, args, {
    cwd: dir,
    stdio: ["ignore", "ignore", "ignore"],
    env: { ...process.env, ...AGENT_ENV },
  });
  let readyMs = 0;
  let announcedMs = 0;
  // Hint: 2 ms polls; a refused connection costs the agent nothing, so the start is barely disturbed.
  while (announcedMs === 0) {
    if (child.exitCode !== null) throw new Error(`${artifact.name} exited with ${child.exitCode}`);
    if (performance.now() - t0 > 30_000)
      throw new Error(`${artifact.name} was not ready within 30 s`);
    try {
      const status = (await (await fetch(`http://127.0.0.1:${port}/status`)).json()) as {
        state: string;
        mqtt: { state: string };
      };
      const now = performance.now() - t0;
      if (status.state === "ready" && readyMs === 0) readyMs = now;
      if (status.state === "ready" && status.mqtt.state === "connected") announcedMs = now;
    } catch {
      // not listening yet
    }
    if (announcedMs === 0) await Bun.sleep(2);
  }
  return { child, readyMs, announcedMs };
}

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;
const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Runs the footprint benchmark and prints its table; returns the headline figures per artifact. */
export async function main(
  options: Partial<FootprintOptions> = {},
): Promise<
  Record<
    string,
    { readyMs: number; announcedMs: number; idleWakeupsPerMinute: number; rssAnonKb: number }
  >
> {
  const o = { ...DEFAULTS, ...options };
  const dir = mkdtempSync(join(tmpdir(), "iota-footprint-"));
  const agents: ChildProcess[] = [];
  let server: Awaited<ReturnType<typeof startServer>> | undefined;
  try {
    console.log(
      `\n## Agent footprint: ${o.starts} starts per artifact, ${o.idleSeconds} s idle, loopback iota-server with embedded broker\n`,
    );
    const artifacts = build(dir);
    server = await startServer(dir);
    const group = await server.fetch("/v1/groups", {
      method: "POST",
      headers: server.admin,
      body: JSON.stringify({ name: "footprint" }),
    });
    if (group.status !== 201)
      throw new Error(`creating the group: ${group.status} ${await group.text()}`);
    const { provisioningSecret } = (await group.json()) as { provisioningSecret: string };
    // Hint: the embedded broker presents a certificate of the server CA, like the API.
    const ca = server.serverCa;
    const results: Footprint[] = [];
    const kept: { artifact: Artifact; child: ChildProcess; result: Footprint }[] = [];
    let n = 0;
    for (const artifact of artifacts) {
      const bytes = statSync(artifact.file).size;
      const result: Footprint = {
        name: artifact.name,
        bytes,
        gzipBytes: gzipSync(readFileSync(artifact.file)).length,
        readyMs: [],
        announcedMs: [],
        idle: undefined as never,
      };
      for (let i = 0; i < o.starts; i++) {
        const started = await startAgent(dir, artifact, server, provisioningSecret, ca, n++);
        agents.push(started.child);
        result.readyMs.push(started.readyMs);
        result.announcedMs.push(started.announcedMs);
        if (i < o.starts - 1) await stop(started.child);
        else kept.push({ artifact, child: started.child, result });
      }
      results.push(result);
    }
    // Hint: both agents idle through the same window; nothing polls them meanwhile.
    await Bun.sleep(1000);
    const before = kept.map(({ child }) => ({
      cpu: processCpuSeconds(child.pid ?? 0),
      wake: wakeups(child.pid ?? 0),
    }));
    await Bun.sleep(o.idleSeconds * 1000);
    kept.forEach(({ child, result }, i) => {
      const pid = child.pid ?? 0;
      const status = procStatus(`/proc/${pid}/status`);
      const b = before[i] ?? { cpu: 0, wake: new Map<string, number>() };
      const wake = wakeupsBetween(pid, b.wake, wakeups(pid));
      result.idle = {
        rssAnonKb: status.get("RssAnon") ?? 0,
        rssFileKb: status.get("RssFile") ?? 0,
        cpuMs: (processCpuSeconds(pid) - b.cpu) * 1000,
        wakeupsMain: wake.main,
        wakeupsAll: wake.all,
        threads: wake.threads,
      };
    });
    const perMinute = (count: number) => (count * 60) / o.idleSeconds;
    const rows = [
      [
        "agent",
        "size",
        "gzip",
        "start→ready ms",
        "start→announced ms",
        "RssAnon",
        "RssFile",
        "idle CPU/min",
        "wake-ups/min main",
        "all threads",
        "threads",
      ],
    ];
    for (const r of results) {
      rows.push([
        r.name,
        `${fmt(r.bytes / 1e6, 1)} MB`,
        `${fmt(r.gzipBytes / 1e6, 1)} MB`,
        `${fmt(median(r.readyMs))} (${fmt(Math.min(...r.readyMs))}-${fmt(Math.max(...r.readyMs))})`,
        `${fmt(median(r.announcedMs))} (${fmt(Math.min(...r.announcedMs))}-${fmt(Math.max(...r.announcedMs))})`,
        `${fmt(r.idle.rssAnonKb / 1024, 1)} MB`,
        `${fmt(r.idle.rssFileKb / 1024, 1)} MB`,
        `${fmt((r.idle.cpuMs * 60) / o.idleSeconds)} ms`,
        fmt(perMinute(r.idle.wakeupsMain)),
        fmt(perMinute(r.idle.wakeupsAll)),
        String(r.idle.threads),
      ]);
    }
    printTable(rows);
    console.log(
      `\nstart times: median (min-max) of ${o.starts} fresh starts, each provisioning a new device; idle figures over ${o.idleSeconds} s after ready`,
    );
    return Object.fromEntries(
      results.map((r) => [
        r.name,
        {
          readyMs: median(r.readyMs),
          announcedMs: median(r.announcedMs),
          idleWakeupsPerMinute: perMinute(r.idle.wakeupsAll),
          rssAnonKb: r.idle.rssAnonKb,
        },
      ]),
    );
  } finally {
    for (const child of agents) await stop(child);
    if (server) await server.process.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  await main({ idleSeconds: Number(process.env.BENCH_IDLE_SECONDS ?? DEFAULTS.idleSeconds) });
}
