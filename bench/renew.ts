/**
 * Renewal benchmark: a real iota-server with provisioned devices, each renewed once to a new key under the
 * provisioning benchmark's load generator; server CPU per renewal against OpenSSL's cost of one P-256 sign and
 * two verifies (the renewal proof and the new CSR; the CA signs the new certificate).
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signRenewProof } from "../src/core/renew-proof.ts";
import {
  deviceKeyAndCsr,
  inOrder,
  OpensslReference,
  printTable,
  quantile,
  requestOrder,
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
  type ServerRun,
} from "./servers.ts";

/** Benchmark size: devices renewed in the measured run, requests in flight, warm-up renewals. */
export interface RenewOptions {
  devices: number;
  inFlight: number;
  warmup: number;
  /** The order of the renewals (BENCH_ORDER). */
  order: RequestOrder;
}

/**
 * Hint: Bun's JIT threads go on compiling the hot path for roughly the first 15,000 requests (~0.4 s of
 * CPU once); the warm-up takes most of that, so the measured run shows a running server's steady state.
 * BENCH_THREADS=1 shows the JIT CPU left in it.
 */
const DEFAULTS: RenewOptions = {
  devices: 20_000,
  inFlight: 64,
  warmup: 10_000,
  order: "created",
};

/** A provisioned device as the benchmark holds it: its key, certificate and serial. */
interface Provisioned {
  name: string;
  keys: CryptoKeyPair;
  certificate: string;
  serial: string;
}

/** Runs `work` over `items`, `inFlight` at a time. */
async function pool<T, R>(items: T[], inFlight: number, work: (item: T) => Promise<R>) {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await work(items[i] as T);
    }),
  );
  return out;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Runs the renewal benchmark and prints its table; returns the headline figures. */
export async function main(
  options: Partial<RenewOptions> = {},
): Promise<{ efficiency: number; renewalsPerSecond: number }> {
  const o = { ...DEFAULTS, order: requestOrder(), ...options };
  // Hint: a malformed BENCH_SERVER_ENV is said before a minute of work, not after it.
  serverEnv();
  const total = o.devices + o.warmup;
  const dir = mkdtempSync(join(tmpdir(), "iota-bench-renew-"));
  try {
    console.log(
      `\n## Renewal: ${fmt(o.devices)} devices, ${o.inFlight} requests in flight, ${fmt(o.warmup)} warm-up renewals${o.order === "random" ? ", in a random order" : ""}; in rounds of ${fmt(ROUND)}, OpenSSL sampled after each\n`,
    );
    const openssl = new OpensslReference();
    const names = Array.from({ length: total }, (_, i) => `bench-device-${i}`);
    const made = await pool(names, 64, (name) => deviceKeyAndCsr(name));
    const iota = await startIota(dir, names);
    try {
      // Hint: provisioning is set-up here, not measured; the provisioning benchmark measures it.
      const provisioned = await pool(names, o.inFlight, async (name): Promise<Provisioned> => {
        const i = names.indexOf(name);
        const mine = made[i] as { keys: CryptoKeyPair; csr: string };
        const res = await fetch(`${iota.url}/v1/provision`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            group: "bench",
            device: name,
            csr: mine.csr,
            secret: iota.provisioningSecret,
          }),
        });
        if (res.status !== 201) throw new Error(`provisioning ${name}: ${res.status}`);
        const { certificate, serial } = (await res.json()) as {
          certificate: string;
          serial: string;
        };
        return { name, keys: mine.keys, certificate, serial };
      });
      // Hint: each device signs its proof with its current key for a new key's CSR, as iotad does.
      const bodies = inOrder(
        await pool(provisioned, 64, async (d) => {
          const next = await deviceKeyAndCsr(d.name);
          const proof = await signRenewProof(d.keys.privateKey, d.serial, next.csr, new Date());
          return JSON.stringify({ certificate: d.certificate, ...proof });
        }),
        o.order,
      );
      // Hint: in rounds like the provisioning benchmark's, OpenSSL sampled after each, so it meets the same machine.
      const [measured] = await measureSideBySide(
        [
          {
            name: "iota-server renew",
            pid: iota.pid,
            url: `${iota.url}/v1/renew`,
            warm: bodies.slice(0, o.warmup),
            bodies: bodies.slice(o.warmup),
            ok: [201],
          },
        ],
        o.inFlight,
        ROUND,
        () => openssl.sample(),
      );
      const run = { ...(measured as ServerRun), walBytes: iota.walBytes() };
      const cryptoCost = openssl.cost(1, 2);
      const n = run.load.requests;
      printTable([
        [
          "server",
          "renewals/s",
          "p50 ms",
          "p99 ms",
          "server CPU/renewal",
          "client CPU/request",
          "server RSS (peak)",
        ],
        [
          run.name,
          fmt(n / run.load.seconds),
          fmt(quantile(run.load.latencies, 0.5), 1),
          fmt(quantile(run.load.latencies, 0.99), 1),
          `${fmt((run.serverCpu / n) * 1e6)} us`,
          `${fmt((run.load.clientCpu / n) * 1e6)} us`,
          residentMemory(run),
        ],
      ]);
      printThreads([run]);
      printWal([run]);
      const cpu = run.serverCpu / n;
      const efficiency = cryptoCost / cpu;
      console.log(`\n${openssl.describe()}`);
      console.log(`  one sign + two verifies = ${fmt(cryptoCost * 1e6, 1)} us of CPU`);
      console.log(
        `renewal efficiency (crypto cost / iota-server CPU per renewal) = ${fmt(cryptoCost * 1e6, 1)} / ${fmt(cpu * 1e6, 1)} = ${fmt(efficiency, 2)}`,
      );
      return { efficiency, renewalsPerSecond: n / run.load.seconds };
    } finally {
      await iota.stop();
    }
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
