/**
 * One process at a time: a lock file created with O_CREAT|O_EXCL, so of processes started together exactly one
 * gets it; it records the holder's pid and command for the others' refusal. A lock whose process is gone
 * (kill -9, a power cut) is taken over. iotad holds one per data folder, iota-server one per data folder and
 * SQLite file.
 */

import { dirname } from "node:path";
import type { LockHost } from "./lock-host.ts";

/** Beside a lock, held for the instant a stale one is removed, so two processes never both remove one and create two. */
const GUARD_SUFFIX = ".takeover";
/** How often a lock file without a readable record is read again before it counts as left by a crash. */
const SETTLE_READS = 5;
const SETTLE_MS = 20;
/**
 * How long rounds of create, read, take over go on, counted in their pauses: a round pauses while another process
 * holds the takeover guard, through its folder fsync, which a slow SD card can stretch to seconds. Past it, locks
 * appear and vanish without end.
 */
const CONTEST_MS = 10_000;

/** What a lock file records of its process. */
export interface LockHolder {
  pid: number;
  /** The command in words: `iotad run --config /etc/iotad/config.json`. */
  command: string;
  /** When it took the lock (ISO 8601). */
  since: string;
  /** The boot it was taken in (Linux), when known. */
  boot?: string;
  /** When its process started (see {@link LockHost.startTime}), when known. */
  start?: string;
}

/** A lock whose process is gone: its record (none when the file is unreadable) and why it counts as gone. */
export interface StaleLock {
  holder: LockHolder | undefined;
  why: string;
}

/** The lock, held. */
export interface ProcessLock {
  /** Removes the lock file if it is still this process's; false when it was not (it is then left alone). */
  release(): boolean;
}

/** Taking the lock: held (after removing a stale one, `tookOver`), or refused because `holder` holds it. */
export type LockResult =
  | { ok: true; lock: ProcessLock; tookOver?: StaleLock }
  | { ok: false; holder: LockHolder };

/** Takes the lock file `path` (its folder must exist) for `command`, without waiting for a live holder. */
export function acquireLock(
  path: string,
  command: string,
  now: number,
  host: LockHost,
): LockResult {
  const dir = dirname(path);
  const boot = host.bootId();
  const start = host.startTime(host.pid);
  const mine: LockHolder = {
    pid: host.pid,
    command,
    since: new Date(now).toISOString(),
    ...(boot === undefined ? {} : { boot }),
    ...(start === undefined ? {} : { start }),
  };
  const text = `${JSON.stringify(mine)}\n`;
  for (let waited = 0; waited < CONTEST_MS; waited += SETTLE_MS) {
    if (host.create(path, text)) {
      host.syncDir(dir);
      return { ok: true, lock: ownLock(path, text, host) };
    }
    const seen = readLock(path, host);
    if (seen === undefined) continue;
    const judged = judge(seen.holder, host);
    if ("live" in judged) return { ok: false, holder: judged.live };
    if (takeOver(path, seen.text, text, host))
      return { ok: true, lock: ownLock(path, text, host), tookOver: judged.stale };
    host.pause(SETTLE_MS);
  }
  throw new Error(`${path} keeps changing; cannot take the lock`);
}

/** What a lock file says: nobody holds it, a live process does, or one that is gone left it. */
export type LockState =
  | { kind: "free" }
  | { kind: "held"; holder: LockHolder }
  | { kind: "stale"; stale: StaleLock };

/** Who holds the lock file `path`, without taking it. */
export function lockStateOf(path: string, host: LockHost): LockState {
  const seen = readLock(path, host);
  if (seen === undefined) return { kind: "free" };
  const judged = judge(seen.holder, host);
  return "live" in judged
    ? { kind: "held", holder: judged.live }
    : { kind: "stale", stale: judged.stale };
}

/** `pid 1234 (iotad run --config ..., since ...)`. */
export function describeHolder(holder: LockHolder): string {
  return `pid ${holder.pid} (${holder.command}, since ${holder.since})`;
}

/** The lock file's text and record; undefined when there is none. Hint: a record still being written is waited for briefly. */
function readLock(
  path: string,
  host: LockHost,
): { text: string; holder: LockHolder | undefined } | undefined {
  for (let read = 1; ; read++) {
    const text = host.read(path);
    if (text === undefined) return undefined;
    const holder = parseHolder(text);
    if (holder !== undefined || read >= SETTLE_READS) return { text, holder };
    host.pause(SETTLE_MS);
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const r = JSON.parse(text) as Partial<LockHolder>;
    if (!Number.isSafeInteger(r.pid) || (r.pid as number) <= 0) return undefined;
    return {
      pid: r.pid as number,
      command: typeof r.command === "string" ? r.command : "a process",
      since: typeof r.since === "string" ? r.since : "an unknown time",
      ...(typeof r.boot === "string" ? { boot: r.boot } : {}),
      ...(typeof r.start === "string" ? { start: r.start } : {}),
    };
  } catch {
    return undefined;
  }
}

/**
 * Whether the process of a lock's record still runs (`live`), or is gone and why (`stale`). A live pid is the
 * holder when its start time is the recorded one: that holds across mount namespaces, where the boot id may
 * differ (systemd-nspawn gives a container's services and its shells different ones). Only where start times
 * cannot be read does the boot id tell a pid reused after a restart from the holder.
 */
function judge(
  holder: LockHolder | undefined,
  host: LockHost,
): { live: LockHolder } | { stale: StaleLock } {
  const gone = (why: string) => ({ stale: { holder, why } });
  if (holder === undefined) return gone("it holds no record (its process died while creating it)");
  const boot = host.bootId();
  const restarted = holder.boot !== undefined && boot !== undefined && holder.boot !== boot;
  const before = "it was taken before the system restarted";
  // Hint: a pid that is now this process's was another's before a restart (containers reuse low pids).
  if (holder.pid === host.pid)
    return gone(restarted ? before : `pid ${holder.pid} is now this process`);
  if (!host.alive(holder.pid)) return gone(restarted ? before : `pid ${holder.pid} no longer runs`);
  const started = holder.start === undefined ? undefined : host.startTime(holder.pid);
  if (started !== undefined)
    return started === holder.start
      ? { live: holder }
      : gone(restarted ? before : `pid ${holder.pid} is now another process`);
  return restarted ? gone(before) : { live: holder };
}

/**
 * Puts this process's record `text` in place of the stale lock whose text is `staleText`, under the guard file.
 * The lock file is replaced in one step, never removed first, so no other process can create it in between: the
 * process that takes a stale lock over is the one that holds it. False when another process is taking it over
 * this instant, or already did (its fresh lock, read again under the guard, then stays).
 */
function takeOver(path: string, staleText: string, text: string, host: LockHost): boolean {
  const dir = dirname(path);
  const guard = `${path}${GUARD_SUFFIX}`;
  if (!host.create(guard, `${JSON.stringify({ pid: host.pid, command: "lock takeover" })}\n`)) {
    // Hint: a guard lives for microseconds; one whose process died inside them is cleared for the next round.
    const seen = readLock(guard, host);
    if (seen !== undefined && "stale" in judge(seen.holder, host)) host.remove(guard);
    return false;
  }
  try {
    if (host.read(path) !== staleText) return false;
    host.replace(path, text);
    host.syncDir(dir);
    return true;
  } finally {
    host.remove(guard);
  }
}

/** The held lock: released once, and only while the file still holds this process's record. */
function ownLock(path: string, text: string, host: LockHost): ProcessLock {
  let held = true;
  return {
    release() {
      if (!held) return false;
      held = false;
      if (host.read(path) !== text) return false;
      host.remove(path);
      host.syncDir(dirname(path));
      return true;
    },
  };
}
