/** When to renew a certificate and how long to wait after a failure: pure functions of their inputs. */

import { createHash } from "node:crypto";
import { backdateOfSpan } from "./profile.ts";

/** The refresh-window policy. Fractions are of the certificate's lifetime (notAfter - notBefore). */
export interface RenewalPolicy {
  /** Renew at this fraction of the lifetime (step-ca convention: 2/3). */
  fraction: number;
  /** Subtract up to this fraction of the lifetime at random (step-ca convention: 1/20). */
  jitter: number;
  /**
   * Spread the first renewal after provisioning over a whole renewal cycle (the cycle's stationary delay),
   * so a factory batch provisioned within an hour does not come back as one wave, now or in later cycles.
   */
  spreadFirst: boolean;
}

/** The defaults of IoTA: step-ca's window, with the first renewal spread over a whole period. */
export const DEFAULT_RENEWAL_POLICY: RenewalPolicy = {
  fraction: 2 / 3,
  jitter: 1 / 20,
  spreadFirst: true,
};

/**
 * The latest a planned renewal can come, as a fraction of the certificate's lifetime: `fraction`, or for a
 * first renewal spread over a whole period (spreadFirst) up to `jitter / 2` later.
 */
export function latestRenewal(policy: RenewalPolicy): number {
  return policy.spreadFirst ? policy.fraction + policy.jitter / 2 : policy.fraction;
}

/** The validity period of a certificate, in epoch milliseconds. */
export interface Validity {
  notBefore: number;
  notAfter: number;
}

/**
 * The instant (epoch ms) at which a certificate should be renewed.
 * `random` returns a number in [0, 1); `first` says whether the certificate came from provisioning.
 * Later renewals follow step-ca: at `fraction` of the lifetime minus up to `jitter` of it.
 * Hint: with `spreadFirst` the first renewal is drawn from the renewal cycle's stationary delay
 * distribution (density P(cycle > t) / mean cycle: flat up to fraction - jitter, then thinning
 * linearly to fraction). By renewal theory a batch provisioned at one instant then renews at the
 * fleet's even rate from the first cycle on, with no wave and no overlap between cycles. The delay
 * counts from the moment of issue, not from notBefore, which is set back for clocks running behind
 * (by up to a tenth of a short lifetime: a 2-minute certificate starts 12 s early); a cycle from issue
 * to the next renewal is that much shorter, and so is the distribution's `fraction`. It is shifted by
 * jitter/2 of the lifetime past the issue, so no device renews a certificate it has just received.
 */
export function renewalTime(
  cert: Validity,
  policy: RenewalPolicy,
  random: () => number,
  first: boolean,
): number {
  const lifetime = cert.notAfter - cert.notBefore;
  const u = clampUnit(random());
  if (!(first && policy.spreadFirst))
    return cert.notBefore + Math.round((policy.fraction - u * policy.jitter) * lifetime);
  const backdate = lifetime > 0 ? backdateOfSpan(lifetime) / lifetime : 0;
  const fraction = Math.max(0, policy.fraction - backdate);
  const cycle = { ...policy, fraction, jitter: Math.min(policy.jitter, fraction) };
  const at = backdate + policy.jitter / 2 + stationaryDelay(cycle, u);
  return cert.notBefore + Math.round(at * lifetime);
}

/** The inverse CDF of the stationary delay until the next renewal, in fractions of the lifetime. */
function stationaryDelay(policy: RenewalPolicy, u: number): number {
  const { fraction, jitter } = policy;
  const flat = fraction - jitter;
  const mean = fraction - jitter / 2;
  const x = u * mean;
  if (x <= flat || jitter === 0) return x;
  return fraction - Math.sqrt(Math.max(0, jitter * jitter - 2 * jitter * (x - flat)));
}

/**
 * Milliseconds from `now` until a planned renewal (or retry) is due; 0 when it is already due (or
 * the timer slept past it). The agent's timer waits this long, at most a minute at a time.
 */
export function renewalDelay(renewAt: number, now: number): number {
  return Math.max(0, renewAt - now);
}

/**
 * A number in [0, 1) fixed by the certificate serial, so the schedule is the same after every restart
 * and the service can tell the device the same `renewAt` the device computes.
 */
export function serialRandom(serialHex: string): () => number {
  const digest = createHash("sha256").update(serialHex.toLowerCase()).digest();
  const value = digest.readUIntBE(0, 6) / 2 ** 48;
  return () => value;
}

/** Capped exponential backoff for retries. */
export interface BackoffPolicy {
  /** First delay in ms. */
  minDelay: number;
  /** Largest delay in ms. */
  maxDelay: number;
}

/** Retries start at 5 s and stay below 15 min, so a device keeps trying after a missed window. */
export const DEFAULT_BACKOFF: BackoffPolicy = { minDelay: 5_000, maxDelay: 15 * 60_000 };

/**
 * Delay before retry number `attempt` (1 = the first retry): "equal jitter", half fixed, half random,
 * over a doubling base capped at `maxDelay`. A server's `Retry-After` (ms) is a floor.
 */
export function retryDelay(
  attempt: number,
  policy: BackoffPolicy,
  random: () => number,
  retryAfterMs?: number,
): number {
  const base = Math.min(policy.maxDelay, policy.minDelay * 2 ** Math.max(0, attempt - 1));
  const delay = base / 2 + clampUnit(random()) * (base / 2);
  return Math.round(Math.max(delay, retryAfterMs ?? 0));
}

function clampUnit(x: number): number {
  if (!(x >= 0)) return 0;
  return x >= 1 ? 1 - Number.EPSILON : x;
}
