/**
 * A bounded queue of issuing work: at most `concurrency` requests issue at once and at most `depth` wait;
 * beyond that the service sheds the request at once (503 with Retry-After) instead of letting every
 * answer grow slower without bound. Devices retry after Retry-After.
 */

import { IotaError } from "../../core/errors.ts";

/** Sizes of the queue. */
export interface QueuePolicy {
  /** Requests issuing at the same time. */
  concurrency: number;
  /** Requests waiting for a turn; more are refused. */
  depth: number;
  /** Seconds a shed request is told to wait. */
  retryAfter: number;
}

/** Runs work within the policy's bounds. */
export class WorkQueue {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  /** Requests refused so far (for metrics and tests). */
  shed = 0;

  constructor(private readonly policy: QueuePolicy) {}

  /** Runs `work` when a slot is free; an `unavailable` error at once when the queue is full. */
  async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.running >= this.policy.concurrency) {
      if (this.waiting.length >= this.policy.depth) {
        this.shed++;
        throw new IotaError(
          "unavailable",
          "The service is busy issuing certificates; retry later",
          {
            retryAfter: this.policy.retryAfter,
          },
        );
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.running++;
    }
    try {
      return await work();
    } finally {
      // Hint: a finished slot passes straight to the next waiter, so `running` never dips below the load.
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    }
  }

  /** Requests issuing now and waiting now. */
  load(): { running: number; waiting: number } {
    return { running: this.running, waiting: this.waiting.length };
  }
}
