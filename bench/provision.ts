/**
 * Provisioning benchmark: iota-server's CPU per provisioned device against OpenSSL's cost of one P-256
 * sign + verify, and its throughput against `cfssl serve` under the same load generator, in one run: both
 * servers up at once, measured side by side in rounds, with OpenSSL sampled after each round.
 */

import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  deviceCsrPem,
  inOrder,
  OpensslReference,
  printTable,
  quantile,
  requestOrder,
  waitFor,
  type RequestOrder,
} from "./load.ts";
import {
  measureSideBySide,
  printThreads,
  printWal,
  residentMemory,
  ROUND,
  serverEnv,
  startIota,
  stop,
  type IotaServer,
  type LoadTarget,
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

/** iota-server with the benchmark's devices, and its load. */
async function iotaTarget(
  dir: string,
  csrs: string[],
  o: ProvisionOptions,
): Promise<{ target: LoadTarget; iota: IotaServer }> {
  const names = csrs.map((_, i) => `bench-device-${i}`);
  const iota = await startIota(dir, names);
  const bodies = inOrder(
    csrs.map((csr, i) =>
      JSON.stringify({ group: "bench", device: names[i], csr, secret: iota.provisioningSecret }),
    ),
    o.order,
  );
  return {
    iota,
    target: {
      name: "iota-server",
      pid: iota.pid,
      url: `${iota.url}/v1/provision`,
      warm: bodies.slice(0, o.warmup),
      bodies: bodies.slice(o.warmup),
    },
  };
}

/** A free TCP port on the loopback, chosen by the OS. */
function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** `cfssl serve` with a CA of its own, and its load: the same CSRs. */
async function cfsslTarget(
  dir: string,
  csrs: string[],
  o: ProvisionOptions,
): Promise<{ target: LoadTarget; stop: () => Promise<void> }> {
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
    return {
      stop: () => stop(child),
      target: {
        name: "cfssl serve",
        pid: child.pid ?? 0,
        url,
        warm: bodies.slice(0, o.warmup),
        bodies: bodies.slice(o.warmup),
      },
    };
  } catch (error) {
    await stop(child);
    throw error;
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
      `\n## Provisioning: ${fmt(o.devices)} devices, ${o.inFlight} requests in flight, ${fmt(o.warmup)} warm-up requests${o.order === "random" ? ", in a random order" : ""}; the servers side by side in rounds of ${fmt(ROUND)}\n`,
    );
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
    const openssl = new OpensslReference();
    const { iota: server, target } = await iotaTarget(dir, csrs, o);
    let runs: ServerRun[];
    try {
      const cfssl = await cfsslTarget(dir, csrs, o);
      try {
        runs = await measureSideBySide([target, cfssl.target], o.inFlight, ROUND, () =>
          openssl.sample(),
        );
      } finally {
        await cfssl.stop();
      }
      (runs[0] as ServerRun).walBytes = server.walBytes();
    } finally {
      await server.stop();
    }
    const cryptoCost = openssl.cost(1, 1);
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
    console.log(`\n${openssl.describe()}`);
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
