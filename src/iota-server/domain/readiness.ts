/**
 * Readiness reports from the brokers, written to the store in batches: the latest report per device wins, and a
 * batch goes out at most `flushMs` after its first report (well within the 10 s a change may take to show).
 */

import type { Logger } from "../log.ts";
import type { FleetStore, ReadinessChange } from "../store/fleet-store.ts";

/** Longest wait before a report is written, in ms. */
export const READINESS_FLUSH_MS = 200;
/** Devices per write transaction. */
const MAX_BATCH = 2000;

/** Collects reports and writes them; a failed write is retried with the next batch. */
export class ReadinessRecorder {
  private pending = new Map<string, ReadinessChange>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private writing: Promise<void> = Promise.resolve();
  /** Devices whose readiness changed in the store (the rest repeated what it held). */
  changes = 0;

  constructor(
    private readonly store: Pick<FleetStore, "applyReadiness">,
    private readonly log: Logger,
    private readonly flushMs = READINESS_FLUSH_MS,
  ) {}

  /** Queues a report. */
  report(change: ReadinessChange): void {
    this.pending.set(`${change.tenant}/${change.group}/${change.device}`, change);
    if (this.pending.size >= MAX_BATCH) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
      this.timer.unref?.();
    }
  }

  /** Writes what is queued; resolves once it (and every earlier write) is done. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.writing = this.writing.then(() => this.writeQueued());
    return this.writing;
  }

  private async writeQueued(): Promise<void> {
    while (this.pending.size > 0) {
      const batch = [...this.pending.values()].slice(0, MAX_BATCH);
      for (const c of batch) this.pending.delete(`${c.tenant}/${c.group}/${c.device}`);
      try {
        this.changes += await this.store.applyReadiness(batch);
      } catch (error) {
        // Hint: reports that arrived meanwhile are newer; only those not superseded go back in the queue.
        for (const c of batch) {
          const key = `${c.tenant}/${c.group}/${c.device}`;
          if (!this.pending.has(key)) this.pending.set(key, c);
        }
        this.log.error(`readiness: recording failed, retrying: ${(error as Error).message}`);
        if (!this.timer) {
          this.timer = setTimeout(() => void this.flush(), 1000);
          this.timer.unref?.();
        }
        return;
      }
    }
  }

  /** Writes what is left. */
  async stop(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
