import { describe, expect, test } from "bun:test";
import { DEFAULT_BACKOFF, DEFAULT_RENEWAL_POLICY, renewalDelay, renewalTime, retryDelay, serialRandom } from "./renewal.ts";

const DAY = 86400_000;
/** A 30-day certificate starting at t = 0. */
const CERT = { notBefore: 0, notAfter: 30 * DAY };
const LIFETIME = CERT.notAfter - CERT.notBefore;
const fixed = (x: number) => () => x;

describe("renewalTime", () => {
  test("a renewed certificate renews at 2/3 of its lifetime with random 0, and 1/20 earlier with random ~1", () => {
    expect(renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(0), false)).toBe(Math.round((2 / 3) * LIFETIME));
    const late = renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(1 - 1e-12), false);
    expect(Math.abs(late - Math.round((2 / 3 - 1 / 20) * LIFETIME))).toBeLessThanOrEqual(1);
  });

  test("random values outside [0, 1) are clamped, NaN counts as 0", () => {
    expect(renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(Number.NaN), false)).toBe(renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(0), false));
    expect(renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(-3), false)).toBe(renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(0), false));
    expect(renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(7), false)).toBe(renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(1 - 1e-12), false));
  });

  test("spreadFirst spreads the first renewal over one whole mean renewal period ending at 2/3", () => {
    const period = 2 / 3 - 1 / 40;
    expect(renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(0), true)).toBe(Math.round((2 / 3) * LIFETIME));
    const earliest = renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(1 - 1e-12), true);
    expect(Math.abs(earliest - Math.round((2 / 3 - period) * LIFETIME))).toBeLessThanOrEqual(1);
    expect(earliest).toBeGreaterThan(CERT.notBefore);
    // Without spreadFirst the first renewal uses the narrow window.
    const narrow = { ...DEFAULT_RENEWAL_POLICY, spreadFirst: false };
    expect(renewalTime(CERT, narrow, fixed(0.5), true)).toBe(renewalTime(CERT, narrow, fixed(0.5), false));
  });

  test("is relative to notBefore and scales with the lifetime", () => {
    const shifted = { notBefore: 1_000_000, notAfter: 1_000_000 + 3600_000 };
    expect(renewalTime(shifted, DEFAULT_RENEWAL_POLICY, fixed(0), false)).toBe(1_000_000 + 2400_000);
  });

  test("with a uniform random source, a factory batch's first renewals spread evenly (no wave)", () => {
    const buckets = new Array(10).fill(0) as number[];
    const start = (2 / 3 - (2 / 3 - 1 / 40)) * LIFETIME;
    const width = (2 / 3 - 1 / 40) * LIFETIME;
    for (let i = 0; i < 10_000; i++) {
      const at = renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed((i + 0.5) / 10_000), true);
      const b = Math.min(9, Math.floor(((at - start) / width) * 10));
      buckets[b] = (buckets[b] ?? 0) + 1;
    }
    for (const n of buckets) expect(n).toBe(1000);
  });
});

describe("renewalDelay", () => {
  test("counts down to renewAt and is 0 once due or missed", () => {
    expect(renewalDelay(1000, 400)).toBe(600);
    expect(renewalDelay(1000, 1000)).toBe(0);
    expect(renewalDelay(1000, 5000)).toBe(0);
  });
});

describe("serialRandom", () => {
  test("is stable for a serial, case-insensitive, in [0, 1), and differs between serials", () => {
    const a = serialRandom("6f24eefba1b86072f74620b41429f5b5");
    expect(a()).toBe(a());
    expect(serialRandom("6F24EEFBA1B86072F74620B41429F5B5")()).toBe(a());
    expect(a()).toBeGreaterThanOrEqual(0);
    expect(a()).toBeLessThan(1);
    expect(serialRandom("4000000000000000000000000000000a")()).not.toBe(a());
  });

  test("spreads serials roughly uniformly", () => {
    let below = 0;
    for (let i = 0; i < 2000; i++) if (serialRandom(i.toString(16).padStart(32, "0"))() < 0.5) below++;
    expect(below).toBeGreaterThan(850);
    expect(below).toBeLessThan(1150);
  });
});

describe("retryDelay", () => {
  test("doubles from minDelay with equal jitter", () => {
    expect(retryDelay(1, DEFAULT_BACKOFF, fixed(0))).toBe(2500);
    expect(retryDelay(1, DEFAULT_BACKOFF, fixed(1 - 1e-12))).toBe(5000);
    expect(retryDelay(2, DEFAULT_BACKOFF, fixed(0))).toBe(5000);
    expect(retryDelay(3, DEFAULT_BACKOFF, fixed(0))).toBe(10_000);
  });

  test("is capped at maxDelay however many attempts failed", () => {
    for (const attempt of [20, 100, 10_000]) {
      expect(retryDelay(attempt, DEFAULT_BACKOFF, fixed(1 - 1e-12))).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxDelay);
      expect(retryDelay(attempt, DEFAULT_BACKOFF, fixed(0))).toBe(DEFAULT_BACKOFF.maxDelay / 2);
    }
  });

  test("a server's Retry-After is a floor, never shortened", () => {
    expect(retryDelay(1, DEFAULT_BACKOFF, fixed(0), 60_000)).toBe(60_000);
    expect(retryDelay(1, DEFAULT_BACKOFF, fixed(0), 1000)).toBe(2500);
    expect(retryDelay(50, DEFAULT_BACKOFF, fixed(0), 3600_000)).toBe(3600_000);
  });
});
