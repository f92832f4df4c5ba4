/** The service's clock as the device sees it: local time plus an offset learnt from `Date` headers when they disagree. */

/** Skew below this is ignored: `Date` has whole seconds, and certificates are backdated a minute. */
export const SKEW_THRESHOLD_MS = 60_000;

/** Tracks the difference between the local clock and the service's. */
export class ServerClock {
  /** Added to local time to get service time; 0 while the skew is below the threshold. */
  private offsetMs = 0;
  /** The last measured difference (service minus local), or `undefined` before the first answer. */
  private measuredMs: number | undefined;

  constructor(
    private readonly localNow: () => number,
    private readonly thresholdMs = SKEW_THRESHOLD_MS,
  ) {}

  /**
   * Learns from an answer's `Date` header, sent between `sentAt` and `receivedAt` (local time).
   * Hint: `Date` is truncated to the second, so the service's time was somewhere in [date, date + 1 s).
   */
  observe(dateHeader: string | undefined, sentAt: number, receivedAt: number): void {
    if (dateHeader === undefined) return;
    const date = Date.parse(dateHeader);
    if (Number.isNaN(date)) return;
    const skew = Math.round(date + 500 - (sentAt + receivedAt) / 2);
    this.measuredMs = skew;
    this.offsetMs = Math.abs(skew) > this.thresholdMs ? skew : 0;
  }

  /** The service's time now, as well as the device knows it. */
  now(): number {
    return this.localNow() + this.offsetMs;
  }

  /** The offset in use (0 when the clocks agree within the threshold). */
  offset(): number {
    return this.offsetMs;
  }

  /** The last measured skew in ms (positive: the service is ahead), or `null` before any answer. */
  skew(): number | null {
    return this.measuredMs ?? null;
  }
}
