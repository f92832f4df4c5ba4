/**
 * Provisioning benchmark: iota-server's CPU per provisioned device against OpenSSL's cost of one P-256
 * sign + verify, and its throughput against `cfssl serve` under the same load generator, in one run.
 */

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  deviceCsrPem,
  inOrder,
  opensslSpeed,
  printTable,
  quantile,
  requestOrder,
  waitFor,
  type RequestOrder,
} from "./load.ts";
import {
  measure,
  printThreads,
  printWal,
  residentMemory,
  serverEnv,
  startIota,
  stop,
  type ServerRun,
} from "./servers.ts";

/** Benchmark size: devices provisioned in the measured run, requests in flight, warm-up requests. */
export interface ProvisionOptions {
  devices: number;
  inFlight: number;
  warmup: number;
  /** The order of the requests (BENCH_ORDER). */
  order: RequestOrder;
}

/**
 * Hint: Bun's JIT threads go on compiling the hot path for roughly the first 15,000 requests (~0.4 s of
 * CPU once); the warm-up takes most of that, so the measured run shows a running server's steady state.
 * BENCH_THREADS=1 shows the JIT CPU left in it.
 */
const DEFAULTS: ProvisionOptions = {
  devices: 20_000,
  inFlight: 64,
  warmup: 10_000,
  order: "created",
};

async function benchIota(dir: string, csrs: string[], o: ProvisionOptions): Promise<ServerRun> {
  const names = csrs.map((_, i) => `bench-device-${i}`);
  const iota = await startIota(dir, names);
  try {
    const bodies = inOrder(
      csrs.map((csr, i) =>
        JSON.stringify({ group: "bench", device: names[i], csr, secret: iota.provisioningSecret }),
      ),
      o.order,
    );
    const run = await measure(
      "iota-server",
      iota.pid,
      `${iota.url}/v1/provision`,
      bodies.slice(0, o.warmup),
      bodies.slice(o.warmup),
      o.inFlight,
    );
    return { ...run, walBytes: iota.walBytes() };
  } finally {
    await iota.stop();
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
    const bodies = inOrder(
      csrs.map((csr) => JSON.stringify({ certificate_request: csr })),
      o.order,
    );
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
  const o = { ...DEFAULTS, order: requestOrder(), ...options };
  // Hint: said before a minute of work, not after it; a child that never started also never exits.
  for (const [tool, from] of [
    ["cfssl", "apt-get install golang-cfssl"],
    ["openssl", "apt-get install openssl"],
  ] as const)
    if (Bun.which(tool) === null)
      throw new Error(`the provisioning benchmark needs ${tool} on PATH (${from})`);
  serverEnv();
  const dir = mkdtempSync(join(tmpdir(), "iota-bench-"));
  try {
    console.log(
      `\n## Provisioning: ${fmt(o.devices)} devices, ${o.inFlight} requests in flight, ${fmt(o.warmup)} warm-up requests${o.order === "random" ? ", in a random order" : ""}\n`,
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
      [
        "server",
        "devices/s",
        "p50 ms",
        "p99 ms",
        "server CPU/device",
        "client CPU/request",
        "server RSS (peak)",
      ],
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
        residentMemory(r),
      ]);
    }
    printTable(rows);
    // Hint: BENCH_THREADS=1 shows where each server's CPU went, per thread name, in us per request.
    printThreads(runs);
    printWal(runs);
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
  const warmup = Number(
    process.env.BENCH_WARMUP ?? Math.min(DEFAULTS.warmup, Math.ceil(devices / 2)),
  );
  await main({ devices, warmup });
}
