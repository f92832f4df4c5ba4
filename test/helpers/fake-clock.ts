/** Test support: a process's wall clock set elsewhere by libfaketime, preloaded straight into it. */

import { existsSync } from "node:fs";

const LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1";

/**
 * The environment that preloads libfaketime into a process, its wall clock at `spec` (`@2020-01-01 00:00:00`
 * starts there and runs on, `+365d` is a year ahead): what `faketime -f SPEC cmd` does, minus the wrapper
 * process. Hint: the wrapper catches SIGHUP and SIGTERM, and keeps a semaphore and shared memory in /dev/shm
 * named by its pid; a wrapper killed before it cleans up leaves them behind, and a later wrapper that gets the
 * same pid fails ("sem_open: File exists"). Only the wall clock is faked; timers count monotonic time, as on a
 * device whose RTC is wrong.
 */
export function fakeClockEnv(spec: string): Record<string, string> {
  if (!existsSync(LIBFAKETIME))
    throw new Error(`${LIBFAKETIME} is missing (apt-get install faketime)`);
  return {
    LD_PRELOAD: LIBFAKETIME,
    FAKETIME: spec,
    DONT_FAKE_MONOTONIC: "1",
    FAKETIME_NO_CACHE: "1",
  };
}
