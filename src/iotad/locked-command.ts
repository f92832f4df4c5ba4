/** The commands that use the identity files (`run`, `provision`, `renew`) run holding the data folder's lock. */

import type { AgentSettings } from "./config.ts";
import { describeHolder } from "../core/process-lock.ts";
import { acquireDataLock, lockRefusal, lockState } from "./data-lock.ts";
import { EXIT } from "./exit-codes.ts";
import type { Logger } from "./logger.ts";
import type { AgentSignal, Runtime } from "./runtime.ts";

/** The exit status of a one-shot stopped by a signal: 128 + its number, what a shell shows for a process it killed. */
const SIGNAL_EXIT: Partial<Record<AgentSignal, number>> = { SIGINT: 130, SIGTERM: 143 };

/**
 * Runs `action` holding the lock of the data folder (created first, 0700, when missing), released on every way
 * out. Another process holding it: a one-line refusal naming it and what to do, exit 5, nothing read or written.
 * `oneShot`: SIGINT and SIGTERM end the action where it stands (as a power cut would: the next start finishes
 * any half-done swap) and release the lock; the daemon handles those signals itself.
 */
export async function withDataLock(
  command: "run" | "provision" | "renew",
  settings: AgentSettings,
  runtime: Runtime,
  log: Logger,
  action: () => Promise<number>,
): Promise<number> {
  const dir = settings.dataDir;
  runtime.disk.ensureDir(dir, 0o700);
  // Hint: a one-shot hears SIGINT and SIGTERM before its lock exists, so no signal can end it holding the lock.
  let stop: ((signal: AgentSignal) => void) | undefined;
  let stopped: AgentSignal | undefined;
  if (command !== "run")
    for (const signal of Object.keys(SIGNAL_EXIT) as AgentSignal[])
      runtime.onSignal(signal, () => {
        stopped ??= signal;
        stop?.(signal);
      });
  const taken = acquireDataLock(
    dir,
    `iotad ${command} --config ${settings.configPath}`,
    runtime.clock.now(),
    runtime.locks,
  );
  if (!taken.ok) {
    runtime.stderr(`iotad: ${lockRefusal(dir, taken.holder, `iotad ${command}`)}\n`);
    return stopped === undefined ? EXIT.local : (SIGNAL_EXIT[stopped] as number);
  }
  if (taken.tookOver !== undefined) {
    const { holder, why } = taken.tookOver;
    log.warn(
      `data folder ${dir}: took over the lock${holder === undefined ? "" : ` of ${describeHolder(holder)}`}: ${why}`,
    );
  }
  try {
    if (command === "run") return await action();
    const interrupted = new Promise<number>((resolve) => {
      stop = (signal) => {
        log.warn(`${signal}: iotad ${command} stopped before it finished; releasing ${dir}`);
        resolve(SIGNAL_EXIT[signal] as number);
      };
    });
    // A signal that came while the lock was being taken: nothing is started.
    if (stopped !== undefined) {
      stop?.(stopped);
      return await interrupted;
    }
    return await Promise.race([interrupted, action()]);
  } finally {
    try {
      taken.lock.release();
    } catch (error) {
      // Hint: a lock left behind names this pid, which will be gone: the next process takes it over.
      log.warn(`data folder ${dir}: cannot remove the lock: ${(error as Error).message}`);
    }
  }
}

/** The line `iotad check-config` adds when a process holds the data folder's lock, or one that is gone left it. */
export function lockNote(settings: AgentSettings, runtime: Runtime): string {
  let state: ReturnType<typeof lockState>;
  try {
    state = lockState(settings.dataDir, runtime.locks);
  } catch {
    return "";
  }
  if (state.kind === "free") return "";
  if (state.kind === "held") return `data folder in use by ${describeHolder(state.holder)}\n`;
  const { holder, why } = state.stale;
  return `data folder lock left by ${holder === undefined ? "a process that is gone" : describeHolder(holder)} (${why}); the next iotad run, provision or renew takes it over\n`;
}
