/**
 * Benchmark plumbing: prepared device CSRs, a cheap closed-loop HTTP load generator, per-process CPU
 * from /proc, OpenSSL's own P-256 speed, and small table printing.
 */

import { readdirSync, readFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { crypto } from "../src/core/x509.ts";
import { EC_P256, ECDSA_SHA256 } from "../src/core/csr.ts";
import { encodePem } from "../src/core/pem.ts";
import { ECDSA_SHA256_ALGORITHM, TAG, p1363ToDer, tlv } from "../src/core/der.ts";

const OID_COMMON_NAME = Uint8Array.of(0x06, 0x03, 0x55, 0x04, 0x03);

/**
 * A PKCS#10 request for `device` with a fresh P-256 key, the same shape iotad sends, built directly
 * in DER so preparing twenty thousand of them takes seconds, not minutes.
 */
export async function deviceCsrPem(device: string): Promise<string> {
  return (await deviceKeyAndCsr(device)).csr;
}

/** A fresh P-256 key pair for `device` and its CSR, as {@link deviceCsrPem} makes it. */
export async function deviceKeyAndCsr(
  device: string,
): Promise<{ keys: CryptoKeyPair; csr: string }> {
  const keys = (await crypto.subtle.generateKey(EC_P256, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const name = tlv(
    TAG.SEQUENCE,
    tlv(
      TAG.SET,
      tlv(
        TAG.SEQUENCE,
        OID_COMMON_NAME,
        tlv(TAG.PRINTABLE_STRING, new TextEncoder().encode(device)),
      ),
    ),
  );
  const info = tlv(
    TAG.SEQUENCE,
    Uint8Array.of(0x02, 0x01, 0x00),
    name,
    spki,
    Uint8Array.of(0xa0, 0x00),
  );
  const signature = new Uint8Array(await crypto.subtle.sign(ECDSA_SHA256, keys.privateKey, info));
  const der = tlv(
    TAG.SEQUENCE,
    info,
    ECDSA_SHA256_ALGORITHM,
    tlv(TAG.BIT_STRING, Uint8Array.of(0), p1363ToDer(signature)),
  );
  return { keys, csr: encodePem(der, "CERTIFICATE REQUEST") };
}

/** User+system CPU seconds a process has used so far (fields 14 and 15 of /proc/PID/stat). */
export function processCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  return ticks / CLOCK_TICKS;
}

/**
 * User+system CPU seconds per thread name of a process (`/proc/PID/task/TID/stat`), summed over threads of
 * the same name: where a server's CPU goes (its JavaScript thread, thread pool, JIT and GC threads).
 */
export function threadCpuSeconds(pid: number): Map<string, number> {
  const byName = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    } catch {
      continue; // Hint: a thread may end between the listing and the read.
    }
    const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")).replace(/\d+$/, "#");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const seconds = (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
    byName.set(name, (byName.get(name) ?? 0) + seconds);
  }
  return byName;
}

/** Resident memory of a process now and at its peak, in KiB (`VmRSS` and `VmHWM` of /proc/PID/status). */
export function processMemoryKb(pid: number): { rssKb: number; peakKb: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
  return { rssKb: field("VmRSS"), peakKb: field("VmHWM") };
}

const CLOCK_TICKS =
  Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** What one load run measured. */
export interface LoadResult {
  requests: number;
  seconds: number;
  /** Latencies in ms, sorted. */
  latencies: number[];
  /** Answers by HTTP status. */
  statuses: Map<number, number>;
  /** CPU seconds the load generator itself used. */
  clientCpu: number;
}

/**
 * Posts every body to `url` with `inFlight` requests outstanding at all times (closed loop) and
 * records each latency. Bodies are prepared strings, so the generator's per-request work is one fetch.
 */
export async function runLoad(
  url: string,
  bodies: string[],
  inFlight: number,
): Promise<LoadResult> {
  const latencies = new Array<number>(bodies.length);
  const statuses = new Map<number, number>();
  let next = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const worker = async () => {
    for (let i = next++; i < bodies.length; i = next++) {
      const started = performance.now();
      const res = await fetch(url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: bodies[i] ?? "",
      });
      await res.arrayBuffer();
      latencies[i] = performance.now() - started;
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  latencies.sort((a, b) => a - b);
  return {
    requests: bodies.length,
    seconds,
    latencies,
    statuses,
    clientCpu: (cpu.user + cpu.system) / 1e6,
  };
}

/** Several load runs against one server as one: their requests, times and answers added up. */
export function mergeLoads(loads: LoadResult[]): LoadResult {
  const statuses = new Map<number, number>();
  for (const load of loads)
    for (const [status, n] of load.statuses) statuses.set(status, (statuses.get(status) ?? 0) + n);
  const sum = (value: (load: LoadResult) => number) => loads.reduce((t, l) => t + value(l), 0);
  return {
    requests: sum((l) => l.requests),
    seconds: sum((l) => l.seconds),
    latencies: loads.flatMap((l) => l.latencies).sort((a, b) => a - b),
    statuses,
    clientCpu: sum((l) => l.clientCpu),
  };
}

/** The `q` quantile (0..1) of sorted values. */
export function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** OpenSSL's ECDSA P-256 signs and verifies per second on one core (`openssl speed -seconds S ecdsap256`). */
export function opensslSpeed(seconds = 3): { signPerSecond: number; verifyPerSecond: number } {
  const run = spawnSync("openssl", ["speed", "-seconds", String(seconds), "ecdsap256"], {
    encoding: "utf8",
  });
  if (run.error || run.status !== 0)
    throw new Error(
      `openssl speed failed (is openssl installed?): ${run.error?.message ?? run.stderr}`,
    );
  const line = run.stdout.split("\n").find((l) => /256 bits ecdsa \(nistp256\)/.test(l));
  const numbers = line?.trim().split(/\s+/).slice(-2).map(Number);
  if (numbers?.length !== 2 || numbers.some((n) => !(n > 0)))
    throw new Error(`cannot read openssl speed output:\n${run.stdout}`);
  return { signPerSecond: numbers[0] ?? 0, verifyPerSecond: numbers[1] ?? 0 };
}

/**
 * OpenSSL's P-256 speed sampled again and again during a run (after each round of a side-by-side measurement),
 * so the reference meets the same machine as the servers measured against it.
 */
export class OpensslReference {
  private readonly samples: { signPerSecond: number; verifyPerSecond: number }[] = [];

  /** Takes one sample of `seconds` per operation. */
  sample(seconds = 1): void {
    this.samples.push(opensslSpeed(seconds));
  }

  /** The mean CPU seconds of `signs` signatures and `verifies` verifications over the samples. */
  cost(signs: number, verifies: number): number {
    if (this.samples.length === 0) this.sample();
    const costs = this.samples.map((s) => signs / s.signPerSecond + verifies / s.verifyPerSecond);
    return costs.reduce((a, b) => a + b, 0) / costs.length;
  }

  /** A line for the report: the samples' mean rates. */
  describe(): string {
    const mean = (f: (s: { signPerSecond: number; verifyPerSecond: number }) => number) =>
      Math.round(this.samples.reduce((t, s) => t + f(s), 0) / this.samples.length).toLocaleString(
        "en-US",
      );
    return `OpenSSL P-256 on this machine, ${this.samples.length} samples during the run: ${mean((s) => s.signPerSecond)} signs/s, ${mean((s) => s.verifyPerSecond)} verifies/s per core`;
  }
}

/** Prints rows as an aligned text table (first row is the header). */
export function printTable(rows: string[][]): void {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? "").length))) ?? [];
  const line = (r: string[]) =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0)))
      .join("  ");
  console.log(line(rows[0] ?? []));
  console.log(widths.map((w) => "-".repeat(w)).join("  "));
  for (const r of rows.slice(1)) console.log(line(r));
}

/** Waits until `check` stops throwing (a server coming up), up to `attempts` x 100 ms. */
export async function waitFor(check: () => Promise<void>, attempts = 100): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await check();
      return;
    } catch (error) {
      if (i >= attempts) throw error;
      await Bun.sleep(100);
    }
  }
}

/**
 * The order the measured requests go in: `BENCH_ORDER=created` (the default: the order the devices were created,
 * as a factory line provisions them, so a batch's rows share pages) or `random` (as a fleet's renewals come).
 */
export type RequestOrder = "created" | "random";

/** BENCH_ORDER, checked before any work. */
export function requestOrder(): RequestOrder {
  const order = process.env.BENCH_ORDER ?? "created";
  if (order !== "created" && order !== "random")
    throw new Error(`BENCH_ORDER: expected created or random, got ${JSON.stringify(order)}`);
  return order;
}

/** `items` in `order`; `random` is the same shuffle in every run (xorshift32 from a fixed seed), so runs compare. */
export function inOrder<T>(items: T[], order: RequestOrder): T[] {
  if (order === "created") return items;
  const out = items.slice();
  let x = 2463534242;
  for (let i = out.length - 1; i > 0; i--) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    const j = (x >>> 0) % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
