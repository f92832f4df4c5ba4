/** In-memory rate limiting: a token bucket per key, and a throttle on repeated wrong credentials. */

import { IotaError } from "../../core/errors.ts";

/** Token-bucket parameters. */
export interface BucketPolicy {
  /** Tokens added per second. */
  rate: number;
  /** Bucket size: the burst allowed after a quiet spell. */
  burst: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Largest number of keys tracked; the oldest are forgotten first, so memory stays bounded under a flood. */
const MAX_KEYS = 100_000;

/** One token bucket per key (a source address, a group). */
export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();

  constructor(
    private readonly policy: BucketPolicy,
    private readonly now: () => number,
  ) {}

  /** Takes a token for `key`; returns 0 when allowed, else the seconds until one is available. */
  take(key: string): number {
    const bucket = this.refill(key);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.policy.rate));
  }

  /** Seconds until `key` has a token again, without taking one. */
  wait(key: string): number {
    const bucket = this.refill(key);
    return bucket.tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - bucket.tokens) / this.policy.rate));
  }

  /** Throws 429 with `Retry-After` when `key` has no token left. */
  enforce(key: string, what: string): void {
    const wait = this.take(key);
    if (wait > 0)
      throw new IotaError("rate-limited", `Too many ${what}; retry in ${wait} s`, {
        retryAfter: wait,
      });
  }

  private refill(key: string): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (!bucket) {
      if (this.buckets.size >= MAX_KEYS) {
        const oldest = this.buckets.keys().next().value;
        if (oldest !== undefined) this.buckets.delete(oldest);
      }
      bucket = { tokens: this.policy.burst, at: now };
      this.buckets.set(key, bucket);
    }
    bucket.tokens = Math.min(
      this.policy.burst,
      bucket.tokens + ((now - bucket.at) / 1000) * this.policy.rate,
    );
    bucket.at = now;
    return bucket;
  }
}
