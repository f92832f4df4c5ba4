/**
 * Provisioning benchmark: iota-server's CPU per provisioned device against OpenSSL's cost of one P-256
 * sign + verify, and its throughput against `cfssl serve` under the same load generator, in one run.
 */

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import {
  deviceCsrPem,
  opensslSpeed,
  printTable,
  processCpuSeconds,
  quantile,
  runLoad,
  threadCpuSeconds,
  waitFor,
  type LoadResult,
} from "./load.ts";

/** Benchmark size: devices provisioned in the measured run, requests in flight, warm-up requests. */
export interface ProvisionOptions {
  devices: number;
  inFlight: number;
  warmup: number;
}

const DEFAULTS: ProvisionOptions = { devices: 20_000, inFlight: 64, warmup: 2_000 };
const ROOT = resolve(import.meta.dir, "..");
const BUN = process.execPath;

/** One server under load: what it answered and what it cost. */
interface ServerRun {
  name: string;
  load: LoadResult;
  serverCpu: number;
  /** CPU seconds by thread name during the measured run. */
  threads: Map<string, number>;
}

/** Starts a child process and resolves with its first stdout line. */
async function startChild(
  command: string,
  args: string[],
  logPath: string,
): Promise<{ child: ChildProcess; firstLine: string }> {
  const child = spawn(command, args, {
    cwd: ROOT,
    stdio: ["ignore", "pipe", openSync(logPath, "w")],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  const firstLine = await new Promise<string>((done, fail) => {
    lines.once("line", done);
    child.once("exit", (code) => fail(new Error(`${command} exited with ${code}; see ${logPath}`)));
  });
  return { child, firstLine };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  await exited;
}

/** Measures one server: warm-up, then the measured run with its process CPU read from /proc. */
async function measure(
  name: string,
  pid: number,
  url: string,
  warm: string[],
  bodies: string[],
  inFlight: number,
): Promise<ServerRun> {
  await runLoad(url, warm, inFlight);
  const threads0 = threadCpuSeconds(pid);
  const cpu0 = processCpuSeconds(pid);
  const load = await runLoad(url, bodies, inFlight);
  const serverCpu = processCpuSeconds(pid) - cpu0;
  const threads = threadCpuSeconds(pid);
  for (const [thread, seconds] of threads)
    threads.set(thread, seconds - (threads0.get(thread) ?? 0));
  const ok = (load.statuses.get(201) ?? 0) + (load.statuses.get(200) ?? 0);
  if (ok !== bodies.length)
    throw new Error(
      `${name}: only ${ok} of ${bodies.length} requests succeeded: ${JSON.stringify([...load.statuses])}`,
    );
  return { name, load, serverCpu, threads };
}

async function benchIota(dir: string, csrs: string[], o: ProvisionOptions): Promise<ServerRun> {
  const data = join(dir, "iota");
  // Hint: BENCH_SERVER_BUN_ARGS="--cpu-prof-md --cpu-prof-dir=/tmp/prof" profiles the server.
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
  );
  try {
    const url = /listening on (\S+)/.exec(firstLine)?.[1];
    if (!url) throw new Error(`iota-server did not say where it listens: ${firstLine}`);
    const adminTokenPath = join(data, "admin-token");
    const admin = {
      authorization: `Bearer ${readFileSync(adminTokenPath, "utf8").trim()}`,
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
    const names = csrs.map((_, i) => `bench-device-${i}`);
    const created = await fetch(`${url}/v1/groups/bench/devices`, {
      method: "POST",
      headers: admin,
      body: JSON.stringify({ names }),
    });
    if (created.status !== 200)
      throw new Error(`creating devices: ${created.status} ${await created.text()}`);
    const bodies = csrs.map((csr, i) =>
      JSON.stringify({ group: "bench", device: names[i], csr, secret: provisioningSecret }),
    );
    return await measure(
      "iota-server",
      child.pid ?? 0,
      `${url}/v1/provision`,
      bodies.slice(0, o.warmup),
      bodies.slice(o.warmup),
      o.inFlight,
    );
  } finally {
    await stop(child);
  }
}

/** A free TCP port on the loopback, chosen by the OS. */
function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

async function benchCfssl(dir: string, csrs: string[], o: ProvisionOptions): Promise<ServerRun> {
  const openssl = (args: string[]) => {
    const run = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
    if (run.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${run.stderr}`);
  };
  openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "cfssl-ca-key.pem"]);
  openssl([
    "req",
    "-new",
    "-x509",
    "-key",
    "cfssl-ca-key.pem",
    "-subj",
    "/CN=cfssl bench CA",
    "-days",
    "30",
    "-out",
    "cfssl-ca.pem",
  ]);
  writeFileSync(
    join(dir, "cfssl.json"),
    JSON.stringify({
      signing: { default: { expiry: "720h", usages: ["digital signature", "client auth"] } },
    }),
  );
  const port = freePort();
  const args = [
    "serve",
    "-address",
    "127.0.0.1",
    "-port",
    String(port),
    "-ca",
    "cfssl-ca.pem",
    "-ca-key",
    "cfssl-ca-key.pem",
    "-config",
    "cfssl.json",
  ];
  const child = spawn("cfssl", args, {
    cwd: dir,
    stdio: ["ignore", "ignore", openSync(join(dir, "cfssl.log"), "w")],
  });
  const failed = new Promise<never>((_, fail) =>
    child.once("error", (e) =>
      fail(new Error(`cannot run cfssl (apt-get install golang-cfssl): ${e.message}`)),
    ),
  );
  try {
    const url = `http://127.0.0.1:${port}/api/v1/cfssl/sign`;
    const bodies = csrs.map((csr) => JSON.stringify({ certificate_request: csr }));
    await Promise.race([
      failed,
      waitFor(
        async () =>
          void (await fetch(url, { method: "POST", body: bodies[0] ?? "" })).arrayBuffer(),
      ),
    ]);
    return await measure(
      "cfssl serve",
      child.pid ?? 0,
      url,
      bodies.slice(0, o.warmup),
      bodies.slice(o.warmup),
      o.inFlight,
    );
  } finally {
    await stop(child);
  }
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Runs the provisioning benchmark and prints its tables; returns the headline ratios. */
export async function main(
  options: Partial<ProvisionOptions> = {},
): Promise<{ efficiency: number; throughputRatio: number }> {
  const o = { ...DEFAULTS, ...options };
  const dir = mkdtempSync(join(tmpdir(), "iota-bench-"));
  try {
    console.log(
      `\n## Provisioning: ${fmt(o.devices)} devices, ${o.inFlight} requests in flight, ${fmt(o.warmup)} warm-up requests\n`,
    );
    const speed = opensslSpeed(3);
    const cryptoCost = 1 / speed.signPerSecond + 1 / speed.verifyPerSecond;
    const csrs: string[] = [];
    for (let i = 0; i < o.devices + o.warmup; i += 500) {
      csrs.push(
        ...(await Promise.all(
          Array.from({ length: Math.min(500, o.devices + o.warmup - i) }, (_, j) =>
            deviceCsrPem(`bench-device-${i + j}`),
          ),
        )),
      );
    }
    const runs = [await benchIota(dir, csrs, o), await benchCfssl(dir, csrs, o)];
    const rows = [
      ["server", "devices/s", "p50 ms", "p99 ms", "server CPU/device", "client CPU/request"],
    ];
    for (const r of runs) {
      const n = r.load.requests;
      rows.push([
        r.name,
        fmt(n / r.load.seconds),
        fmt(quantile(r.load.latencies, 0.5), 1),
        fmt(quantile(r.load.latencies, 0.99), 1),
        `${fmt((r.serverCpu / n) * 1e6)} us`,
        `${fmt((r.load.clientCpu / n) * 1e6)} us`,
      ]);
    }
    printTable(rows);
    // Hint: BENCH_THREADS=1 shows where each server's CPU went, per thread name, in us per request.
    if (process.env.BENCH_THREADS)
      for (const r of runs)
        console.log(
          `${r.name} threads (us/request): ${[...r.threads]
            .filter(([, s]) => s > 0)
            .sort((a, b) => b[1] - a[1])
            .map(([t, s]) => `${t} ${fmt((s / r.load.requests) * 1e6, 1)}`)
            .join(", ")}`,
        );
    const [iota, cfssl] = runs as [ServerRun, ServerRun];
    const iotaCpu = iota.serverCpu / iota.load.requests;
    const efficiency = cryptoCost / iotaCpu;
    const throughputRatio =
      iota.load.requests / iota.load.seconds / (cfssl.load.requests / cfssl.load.seconds);
    console.log(
      `\nOpenSSL P-256 on this machine: ${fmt(speed.signPerSecond)} signs/s, ${fmt(speed.verifyPerSecond)} verifies/s per core`,
    );
    console.log(`  one sign + one verify = ${fmt(cryptoCost * 1e6, 1)} us of CPU`);
    console.log(
      `server efficiency (crypto cost / iota-server CPU per device) = ${fmt(cryptoCost * 1e6, 1)} / ${fmt(iotaCpu * 1e6, 1)} = ${fmt(efficiency, 2)}  (target >= 0.5)`,
    );
    console.log(
      `cfssl for comparison: ${fmt(cryptoCost * 1e6, 1)} / ${fmt((cfssl.serverCpu / cfssl.load.requests) * 1e6, 1)} = ${fmt(cryptoCost / (cfssl.serverCpu / cfssl.load.requests), 2)}`,
    );
    console.log(`throughput ratio iota-server / cfssl = ${fmt(throughputRatio, 2)}`);
    return { efficiency, throughputRatio };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const devices = Number(process.env.BENCH_DEVICES ?? DEFAULTS.devices);
  await main({ devices, warmup: Math.min(DEFAULTS.warmup, Math.ceil(devices / 10)) });
}
