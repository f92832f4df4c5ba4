/** A small job pool: runs at most `size` async jobs at once, so packaging uses every core but no more. */

/** Queues async jobs; `settled()` waits for all of them and rethrows the first failure. */
export class JobPool {
  private running = 0;
  private readonly waiting: (() => void)[] = [];
  private readonly jobs: Promise<unknown>[] = [];

  constructor(private readonly size: number) {
    if (!(size >= 1)) throw new Error(`a job pool needs at least one slot, not ${size}`);
  }

  /** Starts `job` as soon as a slot is free; resolves with its result. */
  add<T>(job: () => Promise<T>): Promise<T> {
    const done = this.slot().then(async () => {
      try {
        return await job();
      } finally {
        this.running--;
        this.waiting.shift()?.();
      }
    });
    // Hint: a failure is reported by settled(); this keeps it from being an unhandled rejection first.
    done.catch(() => {});
    this.jobs.push(done);
    return done;
  }

  /** Waits until every job added so far has finished (none is left running); rejects with the first failure. */
  async settled(): Promise<void> {
    const results = await Promise.allSettled(this.jobs);
    const failed = results.find((r) => r.status === "rejected");
    if (failed) throw failed.reason;
  }

  private slot(): Promise<void> {
    if (this.running < this.size) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.waiting.push(() => {
        this.running++;
        resolve();
      });
    });
  }
}
