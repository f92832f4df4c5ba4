import { describe, expect, test } from "bun:test";
import { MAX_TIMER_WAIT_MS, WakeTimer } from "../../src/iotad/clock.ts";
import { FakeClock } from "../helpers/agent-support.ts";

describe("WakeTimer", () => {
  test("runs the task when its time comes, not before", () => {
    const clock = new FakeClock(1_000_000);
    const timer = new WakeTimer(clock);
    let ran = 0;
    timer.at(1_000_000 + 10 * 60_000, () => ran++);
    clock.advance(10 * 60_000 - 1);
    expect(ran).toBe(0);
    expect(timer.dueAt()).toBe(1_000_000 + 10 * 60_000);
    clock.advance(1);
    expect(ran).toBe(1);
    expect(timer.dueAt()).toBeUndefined();
  });

  test("never sleeps longer than the cap, so the wall clock is re-read", () => {
    const clock = new FakeClock(0);
    const timer = new WakeTimer(clock);
    timer.at(24 * 3600_000, () => {});
    expect(clock.pending()).toEqual([MAX_TIMER_WAIT_MS]);
  });

  test("a device suspended past the due time renews at its first wake", () => {
    const clock = new FakeClock(0);
    const timer = new WakeTimer(clock);
    let ranAt: number | undefined;
    timer.at(5 * 3600_000, () => (ranAt = clock.now()));
    clock.advance(30_000);
    // Suspended for 10 hours: the wall clock moves, the monotonic timer does not.
    clock.jump(10 * 3600_000);
    clock.fireNext();
    expect(ranAt).toBeDefined();
    expect(ranAt as number).toBeLessThanOrEqual(10 * 3600_000 + MAX_TIMER_WAIT_MS);
  });

  test("a due time already past runs at once; cancel and re-plan replace the task", () => {
    const clock = new FakeClock(100);
    const timer = new WakeTimer(clock);
    const ran: string[] = [];
    timer.at(50, () => ran.push("past"));
    clock.advance(0);
    expect(ran).toEqual(["past"]);
    timer.at(200, () => ran.push("first"));
    timer.at(300, () => ran.push("second"));
    clock.advance(500);
    expect(ran).toEqual(["past", "second"]);
    timer.at(900, () => ran.push("cancelled"));
    timer.cancel();
    clock.advance(1000);
    expect(ran).toEqual(["past", "second"]);
  });

  test("follows another time scale (the service's clock)", () => {
    const clock = new FakeClock(0);
    const offset = 2 * 3600_000;
    const timer = new WakeTimer(clock, () => clock.now() + offset);
    let ran = false;
    timer.at(offset + 1000, () => (ran = true));
    clock.advance(999);
    expect(ran).toBe(false);
    clock.advance(1);
    expect(ran).toBe(true);
  });
});
