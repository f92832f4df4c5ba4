/** Writing many small files into one folder, each whole or absent, with the fsyncs running side by side. */

import { closeSync, fchmodSync, fsync, openSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { syncFolder } from "../core/files.ts";

/** One file to write: its name inside the folder and its text. */
export interface NamedText {
  name: string;
  data: string;
}

/** Files in flight at once: enough for the file system to sync them in one journal commit. */
export const WRITES_AT_ONCE = 16;

const fsyncAsync = promisify(fsync);

/**
 * Writes every file of `files` into `dir` with `mode`, like `Files.writeFile` in io.ts, `concurrency` at a time,
 * calling `onWritten(count)` after each; then syncs the folder once, so the renames are durable when it
 * resolves. Hint: each file's own fsync comes before its rename (a crash leaves the whole file or only a
 * temp file, never a short config), but the fsyncs wait side by side instead of one after the other:
 * on a journaling file system they then share commits. The first failure stops it and is thrown.
 */
export async function writeMany(
  dir: string,
  files: Iterable<NamedText>,
  mode: number,
  onWritten: (count: number) => void = () => {},
  concurrency = WRITES_AT_ONCE,
): Promise<number> {
  const next = files[Symbol.iterator]();
  let count = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    for (let item = next.next(); !item.done && failure === undefined; item = next.next()) {
      const path = join(dir, item.value.name);
      const temp = `${path}.${process.pid}.tmp`;
      try {
        const fd = openSync(temp, "w", mode);
        try {
          fchmodSync(fd, mode);
          writeFileSync(fd, item.value.data);
          await fsyncAsync(fd);
        } finally {
          closeSync(fd);
        }
        renameSync(temp, path);
      } catch (error) {
        removeTemp(temp);
        failure ??= { error };
        return;
      }
      count += 1;
      onWritten(count);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (failure !== undefined) throw failure.error;
  syncFolder(dir);
  return count;
}

/**
 * Removes a temp file left by a failed write. Hint: its own failure is dropped: in a read-only folder, or
 * under a path that is a file, the removal fails too, and its error must not hide why the write failed.
 */
export function removeTemp(temp: string): void {
  try {
    rmSync(temp, { force: true });
  } catch {
    // Nothing was made there, or nothing can be removed: the write's error says why.
  }
}
