/** What a process lock needs of the system: exclusive file creation and whether a process still lives. */

import * as fs from "node:fs";
import { readTextIfExists, syncFolder } from "./files.ts";

/** The system under a process lock (node:fs and process, so it works on Node 18, Bun, Linux, macOS, Windows). */
export interface LockHost {
  /** This process's id. */
  readonly pid: number;
  /** The id of the running boot (Linux), so a lock written before a power cut is known stale; undefined elsewhere. */
  bootId(): string | undefined;
  /** Whether process `pid` exists (one of another user counts: it exists). */
  alive(pid: number): boolean;
  /**
   * When process `pid` started, as the system counts it (Linux: clock ticks since boot, from /proc), so a pid
   * taken by another process is told apart from the one that wrote a lock; undefined where it cannot be read.
   */
  startTime(pid: number): string | undefined;
  /** Creates `path` only if nothing is there (O_CREAT|O_EXCL, mode 0600), writes `text` and fsyncs it; false when it exists. */
  create(path: string, text: string): boolean;
  /**
   * Puts `text` (mode 0600, fsynced) at `path` in one step, in place of what is there: written beside it, then
   * renamed over it, so the file is never missing meanwhile.
   */
  replace(path: string, text: string): void;
  /** The file's text, or `undefined` when it does not exist. */
  read(path: string): string | undefined;
  /** Deletes a file; nothing happens when it does not exist. */
  remove(path: string): void;
  /** Flushes a folder's entries, so a created or removed file survives a power cut. */
  syncDir(path: string): void;
  /** Blocks for `ms` milliseconds (waiting out a lock file being written this instant). */
  pause(ms: number): void;
}

const BOOT_ID = "/proc/sys/kernel/random/boot_id";

/** The file operations a lock shares with its program: reading, removing, and syncing a folder. */
export type LockFiles = Pick<LockHost, "read" | "remove" | "syncDir">;

/** node:fs as {@link LockFiles}, for a program without file operations of its own (Linux and macOS folder syncs). */
export const nodeLockFiles: LockFiles = {
  read: readTextIfExists,
  remove: (path) => fs.rmSync(path, { force: true }),
  syncDir: syncFolder,
};

/** O_CREAT|O_EXCL with mode 0600, the text written and fsynced; false when the file exists. */
function createExclusive(path: string, text: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(path, "wx", 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  try {
    fs.writeFileSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return true;
}

/**
 * The real system over `files` (the program's reads, removals and folder syncs: iotad's know the platforms
 * that cannot fsync a folder); only the exclusive creation, the replacement and the process checks are the lock's own.
 */
export function nodeLockHost(files: LockFiles = nodeLockFiles): LockHost {
  return {
    pid: process.pid,
    bootId() {
      try {
        return fs.readFileSync(BOOT_ID, "utf8").trim() || undefined;
      } catch {
        return undefined;
      }
    },
    alive(pid) {
      try {
        process.kill(pid, 0);
        return true;
      } catch (error) {
        // Hint: EPERM is a process of another user (an agent run as root beside one run as iotad): it exists.
        return (error as NodeJS.ErrnoException).code !== "ESRCH";
      }
    },
    startTime(pid) {
      try {
        // Hint: the command name in parentheses may hold spaces and parentheses; field 22 counts from the last ")".
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        const start = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19];
        return start !== undefined && /^\d+$/.test(start) ? start : undefined;
      } catch {
        return undefined;
      }
    },
    create: createExclusive,
    replace(path, text) {
      const beside = `${path}.${process.pid}.new`;
      files.remove(beside);
      if (!createExclusive(beside, text)) throw new Error(`${beside} was created meanwhile`);
      try {
        fs.renameSync(beside, path);
      } catch (error) {
        files.remove(beside);
        throw error;
      }
    },
    read: (path) => files.read(path),
    remove: (path) => files.remove(path),
    syncDir: (path) => files.syncDir(path),
    pause(ms) {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
    },
  };
}
