import { describe, expect, test } from "bun:test";
import {
  DEFAULT_BACKOFF,
  DEFAULT_RENEWAL_POLICY,
  latestRenewal,
  renewalDelay,
  renewalTime,
  retryDelay,
  serialRandom,
} from "./renewal.ts";
import { backdateSeconds } from "./profile.ts";

const DAY = 86400_000;
/** A 30-day certificate starting at t = 0. */
const CERT = { notBefore: 0, notAfter: 30 * DAY };
const LIFETIME = CERT.notAfter - CERT.notBefore;
const fixed = (x: number) => () => x;

describe("renewalTime", () => {
  test("a renewed certificate renews at 2/3 of its lifetime with random 0, and 1/20 earlier with random ~1", () => {
    expect(renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(0), false)).toBe(
      Math.round((2 / 3) * LIFETIME),
    );
    const late = renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(1 - 1e-12), false);
    expect(Math.abs(late - Math.round((2 / 3 - 1 / 20) * LIFETIME))).toBeLessThanOrEqual(1);
  });

  test("random values outside [0, 1) are clamped, NaN counts as 0", () => {
    expect(renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(Number.NaN), false)).toBe(
      renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(0), false),
    );
    expect(renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(-3), false)).toBe(
      renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(0), false),
    );
    expect(renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(7), false)).toBe(
      renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(1 - 1e-12), false),
    );
  });

  test("spreadFirst draws the first renewal from jitter/2 past the issue up to jitter/2 + 2/3 of the lifetime", () => {
    const shift = 1 / 40;
    // Hint: the 30-day certificate's notBefore is set back a minute; the spread counts from its issue.
    expect(renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(0), true)).toBe(
      60_000 + Math.round(shift * LIFETIME),
    );
    const latest = renewalTime(CERT, DEFAULT_RENEWAL_POLICY, fixed(1 - 1e-12), true);
    expect(Math.abs(latest - Math.round((shift + 2 / 3) * LIFETIME))).toBeLessThanOrEqual(1000);
    expect(latest).toBeLessThan(CERT.notAfter);
    // Without spreadFirst the first renewal uses the narrow window.
    const narrow = { ...DEFAULT_RENEWAL_POLICY, spreadFirst: false };
    expect(renewalTime(CERT, narrow, fixed(0.5), true)).toBe(
      renewalTime(CERT, narrow, fixed(0.5), false),
    );
  });

  test("a first renewal is never planned before jitter/2 of the lifetime has passed since the issue, however short the certificate", () => {
    // Certificates as the service issues them at t = 1,000,000 s: notBefore set back by backdateSeconds.
    for (const validity of [
      60,
      61,
      90,
      119,
      120,
      125,
      300,
      599,
      600,
      601,
      1800,
      3600,
      30 * 86400,
    ]) {
      const issue = 1_000_000_000;
      const cert = {
        notBefore: issue - backdateSeconds(validity) * 1000,
        notAfter: issue + validity * 1000,
      };
      const lifetime = cert.notAfter - cert.notBefore;
      for (let i = 0; i <= 200; i++) {
        const at = renewalTime(cert, DEFAULT_RENEWAL_POLICY, fixed(i / 200 - 1e-12), true);
        expect(at - issue).toBeGreaterThanOrEqual(Math.floor((lifetime * 1) / 40));
        expect(at).toBeLessThanOrEqual(
          cert.notBefore + Math.ceil(latestRenewal(DEFAULT_RENEWAL_POLICY) * lifetime),
        );
      }
    }
  });

  test("latestRenewal bounds every planned renewal, first or not, and is reached", () => {
    for (const policy of [
      DEFAULT_RENEWAL_POLICY,
      { ...DEFAULT_RENEWAL_POLICY, spreadFirst: false },
    ]) {
      const bound = latestRenewal(policy) * LIFETIME;
      let highest = 0;
      for (let i = 0; i <= 1000; i++)
        for (const first of [true, false])
          highest = Math.max(highest, renewalTime(CERT, policy, fixed(i / 1000 - 1e-12), first));
      expect(highest).toBeLessThanOrEqual(bound);
      expect(bound - highest).toBeLessThan(LIFETIME / 1000);
    }
    expect(latestRenewal(DEFAULT_RENEWAL_POLICY)).toBeCloseTo(2 / 3 + 1 / 40, 12);
  });

  test("is relative to notBefore and scales with the lifetime", () => {
    const shifted = { notBefore: 1_000_000, notAfter: 1_000_000 + 3600_000 };
    expect(renewalTime(shifted, DEFAULT_RENEWAL_POLICY, fixed(0), false)).toBe(
      1_000_000 + 2400_000,
    );
  });

  for (const validity of [30 * 86400, 120]) {
    test(`a batch of ${validity}-second certificates issued at one instant renews at the even rate through the first two cycles (no wave, no overlap)`, () => {
      // Each device: first renewal from the spread, then renewals every 2/3 - U*1/20 of the lifetime, each
      // certificate backdated as the service issues it (12 s of a 2-minute certificate's 132).
      const back = backdateSeconds(validity) * 1000;
      const issued = (at: number) => ({ notBefore: at - back, notAfter: at + validity * 1000 });
      const lifetime = validity * 1000 + back;
      const devices = 20_000;
      const bins = 40;
      const horizon = 1.3 * lifetime;
      const counts = new Array(bins).fill(0) as number[];
      let seed = 7;
      const next = () => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed / 2147483648;
      };
      for (let i = 0; i < devices; i++) {
        let at = renewalTime(issued(0), DEFAULT_RENEWAL_POLICY, fixed((i + 0.5) / devices), true);
        expect(at).toBeGreaterThan(0);
        while (at < horizon) {
          counts[Math.floor((at / horizon) * bins)]! += 1;
          at = renewalTime(issued(at), DEFAULT_RENEWAL_POLICY, next, false);
        }
      }
      const even = (devices / ((2 / 3 - 1 / 40) * lifetime - back)) * (horizon / bins);
      // From the first renewal on (bin 0 holds the jitter/2 start), every bin stays near the even rate.
      for (const n of counts.slice(1)) {
        expect(n / even).toBeGreaterThan(0.85);
        expect(n / even).toBeLessThan(1.15);
      }
    });
  }
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
    for (let i = 0; i < 2000; i++)
      if (serialRandom(i.toString(16).padStart(32, "0"))() < 0.5) below++;
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
      expect(retryDelay(attempt, DEFAULT_BACKOFF, fixed(1 - 1e-12))).toBeLessThanOrEqual(
        DEFAULT_BACKOFF.maxDelay,
      );
      expect(retryDelay(attempt, DEFAULT_BACKOFF, fixed(0))).toBe(DEFAULT_BACKOFF.maxDelay / 2);
    }
  });

  test("a server's Retry-After is a floor, never shortened", () => {
    expect(retryDelay(1, DEFAULT_BACKOFF, fixed(0), 60_000)).toBe(60_000);
    expect(retryDelay(1, DEFAULT_BACKOFF, fixed(0), 1000)).toBe(2500);
    expect(retryDelay(50, DEFAULT_BACKOFF, fixed(0), 3600_000)).toBe(3600_000);
  });
});
