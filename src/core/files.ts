/** File operations every program does the same way (node:fs, so they run on Node 18 and Bun). */

import { closeSync, fsyncSync, openSync, readFileSync } from "node:fs";

/** A text file's content, or `undefined` when it does not exist; any other failure is thrown. */
export function readTextIfExists(path: string): string | undefined {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}

/** fsyncs a folder, so a file created, renamed or removed in it survives a power cut (Linux, macOS). */
export function syncFolder(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
