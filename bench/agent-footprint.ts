/**
 * Agent footprint benchmark: size, start-to-ready time, idle memory, idle CPU and idle wake-ups of iotad
 * as the release packages it (the linux-x64 executable built like `npm run build` builds it, run with
 * the environment of the packaged systemd unit), beside the same executable without that environment,
 * with `--smol`, and the Node.js bundle, each against a real iota-server with its embedded MQTT broker.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { deviceToken } from "../src/core/token.ts";
import { type Artifact, buildAgents } from "./agent-artifacts.ts";
import { procStatus, wakeups, wakeupsBetween } from "./proc-sample.ts";
import { freePort, startServer, stop } from "./footprint-server.ts";
import { printTable, processCpuSeconds } from "./load.ts";

/** Benchmark knobs: idle window and fresh starts per artifact (the median start is reported). */
export interface FootprintOptions {
  idleSeconds: number;
  starts: number;
}

const DEFAULTS: FootprintOptions = { idleSeconds: 60, starts: 5 };
const ROOT = resolve(import.meta.dir, "..");
const _BUN = process.execPath;
/** Extra environment for every agent, e.g. `BENCH_AGENT_ENV='{"BUN_GC_TIMER_INTERVAL":"5000"}'` to try a runtime knob. */
const AGENT_ENV = JSON.parse(process.env.BENCH_AGENT_ENV ?? "{}") as Record<string, string>;

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
    env: { ...process.env, ...AGENT_ENV, ...artifact.env },
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
export async function main(options: Partial<FootprintOptions> = {}): Promise<
  Record<
    string,
    {
      readyMs: number;
      announcedMs: number;
      idleWakeupsMainPerMinute: number;
      idleWakeupsPerMinute: number;
      idleCpuMsPerMinute: number;
      rssAnonKb: number;
    }
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
    const artifacts = await buildAgents(ROOT, dir);
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
        `${fmt(r.idle.rssAnonKb / 1024, 1)} MiB`,
        `${fmt(r.idle.rssFileKb / 1024, 1)} MiB`,
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
          idleWakeupsMainPerMinute: perMinute(r.idle.wakeupsMain),
          idleWakeupsPerMinute: perMinute(r.idle.wakeupsAll),
          idleCpuMsPerMinute: perMinute(r.idle.cpuMs),
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
