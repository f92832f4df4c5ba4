/**
 * Fleet renewal load: a million devices provisioned within one hour, renewed by the real schedule
 * (core/renewal.ts) over several 30-day lifetimes; peak renewals per minute and per hour against the
 * even rate, for IoTA's policy and for step-style jitter alone.
 */

import { randomInt } from "node:crypto";
import {
  DEFAULT_RENEWAL_POLICY,
  renewalTime,
  serialRandom,
  type RenewalPolicy,
} from "../src/core/renewal.ts";
import { DEFAULT_VALIDITY_SECONDS, backdateSeconds, newSerial } from "../src/core/profile.ts";
import { printTable } from "./load.ts";

/** Simulation size. */
export interface FleetOptions {
  devices: number;
  /** Simulated span in days from the first provisioning. */
  days: number;
}

const DEFAULTS: FleetOptions = { devices: 1_000_000, days: 120 };
const MINUTE = 60_000;
const HOUR = 3_600_000;
const LIFETIME = DEFAULT_VALIDITY_SECONDS * 1000;
const BACKDATE = backdateSeconds(DEFAULT_VALIDITY_SECONDS) * 1000;

/** A min-heap of (time, device) in typed arrays: the fleet's next renewals in time order. */
class EventHeap {
  private readonly times: Float64Array;
  private readonly ids: Int32Array;
  size = 0;

  constructor(capacity: number) {
    this.times = new Float64Array(capacity);
    this.ids = new Int32Array(capacity);
  }

  push(time: number, id: number): void {
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.times[parent]! <= time) break;
      this.times[i] = this.times[parent]!;
      this.ids[i] = this.ids[parent]!;
      i = parent;
    }
    this.times[i] = time;
    this.ids[i] = id;
  }

  topTime(): number {
    return this.times[0]!;
  }

  topId(): number {
    return this.ids[0]!;
  }

  /** Replaces the earliest event with (time, id). */
  replaceTop(time: number, id: number): void {
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.size) break;
      const right = left + 1;
      const child = right < this.size && this.times[right]! < this.times[left]! ? right : left;
      if (this.times[child]! >= time) break;
      this.times[i] = this.times[child]!;
      this.ids[i] = this.ids[child]!;
      i = child;
    }
    this.times[i] = time;
    this.ids[i] = id;
  }
}

/**
 * Renewals per minute over the span, for one policy, event by event in time order. Every certificate gets
 * a serial from the CA's real `newSerial`, and the schedule its random value from `serialRandom`.
 */
function simulate(policy: RenewalPolicy, o: FleetOptions): Uint32Array {
  const span = o.days * 86_400_000;
  const perMinute = new Uint32Array(Math.ceil(span / MINUTE));
  const serial = () => newSerial();
  // Hint: the factory provisions the whole batch within one hour, uniformly; the CA issues in that order.
  const provisioned = Float64Array.from({ length: o.devices }, () => randomInt(0, HOUR)).sort();
  const heap = new EventHeap(o.devices);
  for (let d = 0; d < o.devices; d++) {
    const issued = provisioned[d]!;
    heap.push(
      renewalTime(
        { notBefore: issued - BACKDATE, notAfter: issued + LIFETIME },
        policy,
        serialRandom(serial()),
        true,
      ),
      d,
    );
  }
  while (heap.size > 0 && heap.topTime() < span) {
    const at = heap.topTime();
    perMinute[Math.floor(at / MINUTE)]! += 1;
    const next = renewalTime(
      { notBefore: at - BACKDATE, notAfter: at + LIFETIME },
      policy,
      serialRandom(serial()),
      false,
    );
    heap.replaceTop(next, heap.topId());
  }
  return perMinute;
}

/** Largest count over bins of `width` minutes, from `from` (minutes) to the end. */
function peak(perMinute: Uint32Array, width: number, from: number): number {
  let best = 0;
  for (let start = from; start + width <= perMinute.length; start += width) {
    let sum = 0;
    for (let m = start; m < start + width; m++) sum += perMinute[m] ?? 0;
    best = Math.max(best, sum);
  }
  return best;
}

const fmt = (n: number, digits = 0) =>
  n.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** Runs the fleet simulation and prints its table; returns the peak/even ratios of the default policy. */
export async function main(
  options: Partial<FleetOptions> = {},
): Promise<{ perMinute: number; perHour: number }> {
  const o = { ...DEFAULTS, ...options };
  // Hint: the even rate spreads every device's renewal over one mean renewal period (fraction - jitter/2 of the lifetime).
  const period = (DEFAULT_RENEWAL_POLICY.fraction - DEFAULT_RENEWAL_POLICY.jitter / 2) * LIFETIME;
  const evenPerMinute = (o.devices * MINUTE) / period;
  console.log(
    `\n## Fleet renewal: ${fmt(o.devices)} devices provisioned within one hour, ${o.days} days, 30-day certificates\n`,
  );
  console.log(
    `even rate: ${fmt(evenPerMinute, 1)} renewals/minute, ${fmt(evenPerMinute * 60)} renewals/hour (one renewal per device per ${fmt(period / 86_400_000, 2)} days)`,
  );
  const policies: [string, RenewalPolicy][] = [
    ["IoTA default (first renewal spread)", DEFAULT_RENEWAL_POLICY],
    ["step-style 5% jitter only", { ...DEFAULT_RENEWAL_POLICY, spreadFirst: false }],
  ];
  const rows = [
    ["policy", "renewals", "peak/min", "x even", "peak/hour", "x even", "poisson p/min"],
  ];
  let result = { perMinute: 0, perHour: 0 };
  for (const [name, policy] of policies) {
    const perMinute = simulate(policy, o);
    const total = perMinute.reduce((a, b) => a + b, 0);
    const firstMinute = perMinute.findIndex((n) => n > 0);
    const pm = peak(perMinute, 1, firstMinute);
    const ph = peak(perMinute, 60, firstMinute);
    rows.push([
      name,
      fmt(total),
      fmt(pm),
      fmt(pm / evenPerMinute, 2),
      fmt(ph),
      fmt(ph / (evenPerMinute * 60), 2),
      fmt(poissonPeak(evenPerMinute, perMinute.length - firstMinute)),
    ]);
    if (policy === DEFAULT_RENEWAL_POLICY)
      result = { perMinute: pm / evenPerMinute, perHour: ph / (evenPerMinute * 60) };
  }
  printTable(rows);
  console.log(
    "\n'poisson p/min' is the largest minute expected from independent random draws alone at the even rate",
  );
  console.log(
    "over the same number of minutes: per-minute peaks of random schedules cannot go below it.",
  );
  return result;
}

/** The count a Poisson(mean) bin exceeds with probability 1/bins: the typical maximum of `bins` random bins. */
function poissonPeak(mean: number, bins: number): number {
  let k = Math.floor(mean);
  let p = Math.exp(-mean);
  let cdf = 0;
  for (let i = 0; i <= k; i++) {
    cdf += p;
    p *= mean / (i + 1);
  }
  while (1 - cdf > 1 / bins) {
    k++;
    cdf += p;
    p *= mean / (k + 1);
  }
  return k;
}

if (import.meta.main)
  await main({ devices: Number(process.env.BENCH_FLEET_DEVICES ?? DEFAULTS.devices) });
