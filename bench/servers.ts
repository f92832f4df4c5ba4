/**
 * The servers the benchmarks drive: a real `iota-server` process (plain HTTP on loopback, the per-address issue
 * limit lifted with its operator flag) with a group and devices, and the measurement of loads against processes.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, openSync, readFileSync, statSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { SERVER_RUNTIME_ENV } from "../src/iota-server/runtime-env.ts";
import {
  mergeLoads,
  processCpuSeconds,
  processMemoryKb,
  runLoad,
  threadCpuSeconds,
  type LoadResult,
} from "./load.ts";

const ROOT = resolve(import.meta.dir, "..");
const BUN = process.execPath;

/** One server under load: what it answered and what it cost. */
export interface ServerRun {
  name: string;
  load: LoadResult;
  /** CPU seconds of the server process (all its threads) during the measured run. */
  serverCpu: number;
  /** CPU seconds by thread name during the measured run. */
  threads: Map<string, number>;
  /** Resident memory at the end of the measured run and the process's peak, in KiB. */
  memory: { rssKb: number; peakKb: number };
  /** The size of iota-server's WAL file at the end of the measured run. */
  walBytes?: number;
}

/** Starts a child process and resolves with its first stdout line. */
export async function startChild(
  command: string,
  args: string[],
  logPath: string,
  cwd = ROOT,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; firstLine: string }> {
  const child = spawn(command, args, {
    cwd,
    env,
    stdio: ["ignore", "pipe", openSync(logPath, "w")],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const firstLine = await new Promise<string>((done, fail) => {
    lines.once("line", done);
    child.once("error", fail);
    child.once("exit", (code) => fail(new Error(`${command} exited with ${code}; see ${logPath}`)));
  });
  return { child, firstLine };
}

/** Stops a child with SIGTERM and waits for it. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  await exited;
}

/** A server to measure: where the load goes, its unmeasured warm-up, its measured requests. */
export interface LoadTarget {
  name: string;
  pid: number;
  url: string;
  warm: string[];
  bodies: string[];
  /** The statuses a measured request may answer with (default 200 and 201). */
  ok?: number[];
}

/** Measured requests per server in each round of a side-by-side measurement (BENCH_ROUND). */
export const ROUND = positive("BENCH_ROUND", process.env.BENCH_ROUND ?? "2000");

/** `value` of the variable `name` as a whole number above 0, or an error naming it. */
function positive(name: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name}: expected a whole number above 0, got ${JSON.stringify(value)}`);
  return n;
}

/**
 * The process's CPU seconds once it has gone quiet after a load: read again every 50 ms until a read finds no
 * new clock tick (at most 2 s). Hint: a server finishes some work after its last answer (iota-server's WAL
 * checkpoint follows a sync by up to 100 ms; GC, the JIT); read at once, it would fall in the next server's share.
 */
export async function settledCpuSeconds(pid: number): Promise<number> {
  let last = processCpuSeconds(pid);
  for (let waited = 0; waited < 2_000; waited += 50) {
    await Bun.sleep(50);
    const now = processCpuSeconds(pid);
    if (now === last) return now;
    last = now;
  }
  return last;
}

/**
 * Measures servers side by side: each gets its warm-up, then their measured requests go in rounds of `round`,
 * every server in turn (in the reverse order every other round), and `between` runs after each round, e.g. to
 * sample a reference. Each server's CPU is read around its own share of each round only, until it has gone quiet
 * after it ({@link settledCpuSeconds}); its throughput counts the share's requests alone. Hint: on a shared
 * machine the load of other users drifts over a minute; a server measured after another meets another machine,
 * while rounds of a second or so spread the drift over all of them alike.
 */
export async function measureSideBySide(
  targets: LoadTarget[],
  inFlight: number,
  round = ROUND,
  between?: () => void,
): Promise<ServerRun[]> {
  for (const t of targets) await runLoad(t.url, t.warm, inFlight);
  const runs = targets.map((target) => ({
    target,
    loads: [] as LoadResult[],
    cpu: 0,
    threads: new Map<string, number>(),
  }));
  const longest = Math.max(...targets.map((t) => t.bodies.length));
  for (let at = 0, n = 0; at < longest; at += round, n++) {
    for (const run of n % 2 === 0 ? runs : [...runs].reverse()) {
      const { pid, url, bodies } = run.target;
      const part = bodies.slice(at, at + round);
      if (part.length === 0) continue;
      const threads0 = threadCpuSeconds(pid);
      const cpu0 = processCpuSeconds(pid);
      run.loads.push(await runLoad(url, part, inFlight));
      run.cpu += (await settledCpuSeconds(pid)) - cpu0;
      for (const [thread, seconds] of threadCpuSeconds(pid))
        run.threads.set(
          thread,
          (run.threads.get(thread) ?? 0) + seconds - (threads0.get(thread) ?? 0),
        );
    }
    between?.();
  }
  return runs.map(({ target, loads, cpu, threads }) => {
    const load = mergeLoads(loads);
    const ok = target.ok ?? [200, 201];
    const good = ok.reduce((sum, status) => sum + (load.statuses.get(status) ?? 0), 0);
    if (good !== target.bodies.length)
      throw new Error(
        `${target.name}: only ${good} of ${target.bodies.length} requests succeeded: ${JSON.stringify([...load.statuses])}`,
      );
    return {
      name: target.name,
      load,
      serverCpu: cpu,
      threads,
      memory: processMemoryKb(target.pid),
    };
  });
}

/** A running iota-server with the group `bench` and its devices. */
export interface IotaServer {
  url: string;
  pid: number;
  provisioningSecret: string;
  /** The size of its SQLite WAL file now (0 when there is none). */
  walBytes(): number;
  stop(): Promise<void>;
}

/**
 * The environment of a benchmarked server: the packaged service's (src/iota-server/runtime-env.ts), then the
 * benchmark's own, then `BENCH_SERVER_ENV` ("NAME=value NAME=value"), which sets variables for the server alone.
 * Hint: BENCH_SERVER_ENV="MIMALLOC_PURGE_HOLES=1 MIMALLOC_PURGE_DECOMMITS=1" measures Bun's allocator defaults.
 */
export function serverEnv(): NodeJS.ProcessEnv {
  const extra = (process.env.BENCH_SERVER_ENV ?? "").split(/\s+/).filter(Boolean);
  const env: NodeJS.ProcessEnv = { ...SERVER_RUNTIME_ENV, ...process.env };
  for (const pair of extra) {
    const at = pair.indexOf("=");
    if (at < 1)
      throw new Error(`BENCH_SERVER_ENV: expected NAME=value, got ${JSON.stringify(pair)}`);
    env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return env;
}

/**
 * Starts `iota-server --plain-http --issue-rate 0` on a data folder in `dir` and creates the group `bench`
 * with `names` as its devices. Hint: BENCH_SERVER_BUN_ARGS="--cpu-prof-md --cpu-prof-dir=/tmp/prof" profiles it;
 * that profile weighs each sample by the wall time since the one before (a thread that waited gives its next
 * sample the wait), so its sample counts tell more than its times; `perf record` measures CPU.
 */
export async function startIota(dir: string, names: string[]): Promise<IotaServer> {
  const data = join(dir, "iota");
  const bunArgs = (process.env.BENCH_SERVER_BUN_ARGS ?? "").split(" ").filter(Boolean);
  const { child, firstLine } = await startChild(
    BUN,
    // Hint: plain HTTP on loopback, as cfssl serve runs here; the operator flag lifts the per-address limit.
    [
      ...bunArgs,
      join(ROOT, "src/iota-server/main.ts"),
      "--data",
      data,
      "--listen",
      "127.0.0.1:0",
      "--plain-http",
      "--issue-rate",
      "0",
    ],
    join(dir, "iota.log"),
    ROOT,
    serverEnv(),
  );
  try {
    const url = /listening on (\S+)/.exec(firstLine)?.[1];
    if (!url) throw new Error(`iota-server did not say where it listens: ${firstLine}`);
    const admin = {
      authorization: `Bearer ${readFileSync(join(data, "admin-token"), "utf8").trim()}`,
      "content-type": "application/json",
    };
    const group = await fetch(`${url}/v1/groups`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ name: "bench" }),
    });
    if (group.status !== 201)
      throw new Error(`creating the bench group: ${group.status} ${await group.text()}`);
    const { provisioningSecret } = (await group.json()) as { provisioningSecret: string };
    const created = await fetch(`${url}/v1/groups/bench/devices`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ names }),
    });
    if (created.status !== 200)
      throw new Error(`creating devices: ${created.status} ${await created.text()}`);
    const wal = join(data, "iota.db-wal");
    return {
      url,
      pid: child.pid ?? 0,
      provisioningSecret,
      walBytes: () => (existsSync(wal) ? statSync(wal).size : 0),
      stop: () => stop(child),
    };
  } catch (error) {
    await stop(child);
    throw error;
  }
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** A server's resident memory after its measured run and at its peak, as a table cell. */
export function residentMemory(run: ServerRun): string {
  return `${fmt(run.memory.rssKb / 1024)} MiB (${fmt(run.memory.peakKb / 1024)})`;
}

/** Prints where each server's CPU went, per thread name, when BENCH_THREADS is set. */
export function printThreads(runs: ServerRun[]): void {
  if (!process.env.BENCH_THREADS) return;
  for (const r of runs)
    console.log(
      `${r.name} threads (us/request): ${[...r.threads]
        .filter(([, s]) => s > 0)
        .sort((a, b) => b[1] - a[1])
        .map(([t, s]) => `${t} ${fmt((s / r.load.requests) * 1e6, 1)}`)
        .join(", ")}`,
    );
}

/** Prints the size of each iota-server's WAL file at the end of its measured run. */
export function printWal(runs: ServerRun[]): void {
  for (const r of runs)
    if (r.walBytes !== undefined)
      console.log(
        `${r.name} WAL at the end of the measured run: ${fmt(r.walBytes / 2 ** 20, 1)} MiB`,
      );
}
