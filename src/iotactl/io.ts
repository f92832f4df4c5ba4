/** What iotactl receives from the outside world: streams, environment, files and fetch (built only in main.ts). */

import {
  closeSync,
  existsSync,
  fchmodSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { type NamedText, removeTemp, writeMany } from "./write-many.ts";

/** A writable text stream. */
export interface Output {
  write(text: string): void;
  /** True when a person is watching (a terminal). */
  isTTY: boolean;
}

/** The file operations iotactl needs. */
export interface Files {
  /** The text of a file; throws with `code: "ENOENT"` etc. like node:fs. */
  readText(path: string): string;
  exists(path: string): boolean;
  /** True when `path` belongs to the user running iotactl (always, where the system has no user ids). */
  isMine(path: string): boolean;
  /** Creates a folder (and parents) with `mode` when missing; throws with `code: "ENOTDIR"` when `path` is a file. */
  mkdir(path: string, mode: number): void;
  /** Removes a folder if it is empty; nothing happens when it holds anything or is gone. */
  removeEmptyDir(path: string): void;
  /** Removes a file; nothing happens when it is gone. */
  remove(path: string): void;
  /** Replaces a whole file at once (never half-written) with `mode` (also when it already existed). */
  writeFile(path: string, data: string, mode: number): void;
  /**
   * Writes many files into folder `dir` with `mode`, each like {@link Files.writeFile}, calling `onWritten`
   * with the count so far; resolves once every file and the folder are synced to disk.
   */
  writeFiles(
    dir: string,
    files: Iterable<NamedText>,
    mode: number,
    onWritten?: (count: number) => void,
  ): Promise<number>;
}

/** Standard output, which carries results a person may have no other copy of (a group's secret). */
export interface ResultOutput extends Output {
  /**
   * Resolves once everything written has reached its destination; rejects with the first error that
   * writing met (a full disk: ENOSPC, EIO), after which further writes are dropped.
   */
  flushed(): Promise<void>;
}

/** Everything a command may touch. */
export interface Io {
  stdout: ResultOutput;
  stderr: Output;
  /** Reads all of standard input. */
  readStdin(): Promise<string>;
  env: Record<string, string | undefined>;
  /** The working folder: relative paths (files, --out, ./.iota/admin-token) are resolved against it. */
  cwd: string;
  /** The user's home folder (for ~/.config). */
  home: string;
  fetch: typeof fetch;
  files: Files;
  /**
   * Asks to hear of Ctrl-C (SIGINT or SIGTERM) instead of ending at once, until the returned function is
   * called; a second one ends iotactl at once. Absent where nothing interrupts (in-process callers).
   */
  onInterrupt?: (handler: () => void) => () => void;
}

/**
 * A stop that Ctrl-C asks for, for a command that works in steps (batches, files): `stopped()` turns true at
 * the first Ctrl-C, and `release()` gives Ctrl-C back its default (end at once) when the steps are done.
 */
export function stopOnInterrupt(io: Io): { stopped: () => boolean; release: () => void } {
  let stop = false;
  const release = io.onInterrupt?.(() => {
    stop = true;
  });
  return { stopped: () => stop, release: () => release?.() };
}

/** {@link Files} on the real file system. */
export const systemFiles: Files = {
  readText: (path) => readFileSync(path, "utf8"),
  exists: (path) => existsSync(path),
  isMine: (path) => {
    const uid = process.getuid?.();
    return uid === undefined || statSync(path).uid === uid;
  },
  mkdir: (path, mode) => {
    if (!existsSync(path)) mkdirSync(path, { recursive: true, mode });
    // Hint: a file where the folder should be fails here, naming it, not later at each file written into it.
    else if (!statSync(path).isDirectory())
      throw Object.assign(new Error(`ENOTDIR: not a folder, mkdir '${path}'`), {
        code: "ENOTDIR",
        path,
      });
  },
  removeEmptyDir: (path) => {
    try {
      rmdirSync(path);
    } catch {
      // Not empty, or gone: left as it is.
    }
  },
  remove: (path) => rmSync(path, { force: true }),
  writeFile: (path, data, mode) => {
    // Hint: a temp file beside it, synced, then renamed: a crash leaves the old file or the new one,
    // never a truncated config holding half of the tokens. fchmod, because umask may narrow `mode`.
    const temp = `${path}.${process.pid}.tmp`;
    try {
      const fd = openSync(temp, "w", mode);
      try {
        fchmodSync(fd, mode);
        writeSync(fd, data);
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, path);
    } catch (error) {
      removeTemp(temp);
      throw error;
    }
  },
  writeFiles: (dir, files, mode, onWritten) => writeMany(dir, files, mode, onWritten),
};

/** A file-reading failure as a one-line reason (`no such file`, `permission denied`). */
export function fileProblem(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === "ENOENT") return "no such file";
  if (code === "EACCES" || code === "EPERM") return "permission denied";
  if (code === "EISDIR") return "is a folder, not a file";
  return (error as Error).message;
}
