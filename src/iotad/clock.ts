/** The agent's view of time: a wall clock and timers, injected so tests can drive them without sleeping. */

import { renewalDelay } from "../core/renewal.ts";

/** Wall clock plus timers (`globalThis` in production, a fake in tests). */
export interface Clock {
  /** Wall-clock time, epoch ms. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock (built by main.ts). Timers are unref'd so they never keep a finished command alive. */
export function systemClock(): Clock {
  return {
    now: () => Date.now(),
    setTimeout: (fn, ms) => {
      const handle = setTimeout(fn, ms);
      (handle as { unref?: () => void }).unref?.();
      return handle;
    },
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}

/**
 * The longest single timer wait. Timers count monotonic time, which stops while a device is
 * suspended; waking every minute to re-read the wall clock makes a renewal that came due during
 * suspension happen at most a minute after resume.
 */
export const MAX_TIMER_WAIT_MS = 60_000;

/** Runs one task once a time has come, re-reading the wall clock at every wake. */
export class WakeTimer {
  private handle: unknown;
  private due: number | undefined;
  private task: (() => void) | undefined;

  /** `now` is the time scale `due` is in (e.g. the service's clock); it defaults to the clock's. */
  constructor(
    private readonly clock: Clock,
    private readonly now: () => number = () => clock.now(),
    private readonly maxWaitMs = MAX_TIMER_WAIT_MS,
  ) {}

  /** Runs `task` once `now() >= due`, replacing any earlier plan. */
  at(due: number, task: () => void): void {
    this.cancel();
    this.due = due;
    this.task = task;
    this.arm();
  }

  /** Forgets the plan. */
  cancel(): void {
    if (this.handle !== undefined) this.clock.clearTimeout(this.handle);
    this.handle = undefined;
    this.due = undefined;
    this.task = undefined;
  }

  /** When the task will run, or `undefined` when nothing is planned. */
  dueAt(): number | undefined {
    return this.due;
  }

  private arm(): void {
    const due = this.due;
    if (due === undefined) return;
    const wait = Math.min(renewalDelay(due, this.now()), this.maxWaitMs);
    this.handle = this.clock.setTimeout(() => {
      this.handle = undefined;
      if (this.due === undefined) return;
      if (this.now() < this.due) return this.arm();
      const task = this.task;
      this.due = undefined;
      this.task = undefined;
      task?.();
    }, wait);
  }
}
