/** The file operations the identity store needs, kept small so tests can cut the power between any two of them. */

import * as fs from "node:fs";
import { dirname } from "node:path";
import { readTextIfExists } from "../core/files.ts";

/** Primitive file operations; every durable write goes through {@link writeAtomic}. */
export interface Disk {
  /** The file's text, or `undefined` when it does not exist. */
  read(path: string): string | undefined;
  /** Creates or truncates `path` with `mode`, writes `text` and flushes it to the device (open, write, fsync, close). */
  writeSynced(path: string, text: string, mode: number): void;
  /** Renames atomically (POSIX rename replaces the target in one step). */
  rename(from: string, to: string): void;
  /** Deletes a file; nothing happens when it does not exist. */
  remove(path: string): void;
  /** Flushes a folder's entries, so a rename inside it survives a power cut. */
  syncDir(path: string): void;
  /** Creates a folder (and its parents) and sets its mode. */
  ensureDir(path: string, mode: number): void;
  /** Names of the entries of a folder. */
  list(path: string): string[];
}

/** Writes `text` to `path` so that a power cut leaves either the old file or the new one: temp file, fsync, rename, fsync folder. */
export function writeAtomic(disk: Disk, path: string, text: string, mode = 0o600): void {
  const temp = `${path}.tmp`;
  disk.writeSynced(temp, text, mode);
  disk.rename(temp, path);
  disk.syncDir(dirname(path));
}

/** Moves `from` over `to` durably. */
export function renameDurably(disk: Disk, from: string, to: string): void {
  disk.rename(from, to);
  disk.syncDir(dirname(to));
}

/** The real file system (built by main.ts; tests use it on temp folders). */
export function nodeDisk(): Disk {
  return {
    read: readTextIfExists,
    writeSynced(path, text, mode) {
      const fd = fs.openSync(path, "w", mode);
      try {
        // Hint: the mode of openSync applies only to new files; an old temp file keeps its mode otherwise.
        fs.fchmodSync(fd, mode);
        fs.writeFileSync(fd, text);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    },
    rename: (from, to) => fs.renameSync(from, to),
    remove(path) {
      fs.rmSync(path, { force: true });
    },
    syncDir(path) {
      let fd: number | undefined;
      try {
        fd = fs.openSync(path, "r");
        fs.fsyncSync(fd);
      } catch (error) {
        // Hint: some platforms (Windows) cannot open or fsync a folder; the rename is still atomic there.
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EACCES")
          throw error;
      } finally {
        if (fd !== undefined) fs.closeSync(fd);
      }
    },
    ensureDir(path, mode) {
      fs.mkdirSync(path, { recursive: true, mode });
      fs.chmodSync(path, mode);
    },
    list: (path) => fs.readdirSync(path),
  };
}
