/**
 * One process at a time per data folder: `iotad run`, `provision` and `renew` hold `iotad.lock` in it from before
 * they read an identity file until they exit (the lock itself: core/process-lock.ts).
 */

import { join } from "node:path";
import type { LockHost } from "../core/lock-host.ts";
import {
  acquireLock,
  describeHolder,
  type LockHolder,
  type LockResult,
  type LockState,
  lockStateOf,
} from "../core/process-lock.ts";

/** The lock's file name in the data folder. */
export const LOCK_FILE = "iotad.lock";

/** Takes the lock of data folder `dir` (which must exist) for `command`, without waiting for a live holder. */
export function acquireDataLock(
  dir: string,
  command: string,
  now: number,
  host: LockHost,
): LockResult {
  return acquireLock(join(dir, LOCK_FILE), command, now, host);
}

/** Who holds the lock of `dir`, without taking it (for `iotad check-config`). */
export function lockState(dir: string, host: LockHost): LockState {
  return lockStateOf(join(dir, LOCK_FILE), host);
}

/** The refusal of `command` (`iotad provision`) while `holder` holds the lock of `dir`: who, and what to do. */
export function lockRefusal(dir: string, holder: LockHolder, command: string): string {
  const advice = !/^iotad run\b/.test(holder.command)
    ? "wait for it to finish, then try again"
    : /^iotad run\b/.test(command)
      ? "an agent already runs for it: stop that one first (`systemctl stop iotad`), or leave it running"
      : `it is the running agent: to ${command.replace(/^iotad /, "")} now, send it SIGHUP (\`systemctl reload iotad\`, or \`kill -HUP ${holder.pid}\`)`;
  return `data folder ${dir} is in use by ${describeHolder(holder)}; one iotad at a time may use it, so ${command} changed nothing: ${advice}`;
}
