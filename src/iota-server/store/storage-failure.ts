/**
 * When the embedded SQLite store can no longer vouch for its files: a sync of the WAL failed, or the database's
 * files were removed or replaced under the running service. What the connection then holds may not be on disk,
 * so the store answers nothing more from it (a 503 to every caller) until iota-server is restarted.
 */

import { fstatSync, statSync } from "node:fs";

/** The error code of every such failure (problem-response.ts answers it with a 503). */
export const STORAGE_FAILED = "IOTA_STORAGE_FAILED";

/** An error with code {@link STORAGE_FAILED}. */
export function storageFailure(message: string): Error & { code: string } {
  return Object.assign(new Error(message), { code: STORAGE_FAILED });
}

/** Whether `error` is a {@link storageFailure}. */
export function isStorageFailure(error: unknown): error is Error & { code: string } {
  return (error as { code?: unknown } | undefined)?.code === STORAGE_FAILED;
}

/**
 * Throws a {@link storageFailure} when `fd` (opened on `path`) is no longer the file at `path`: it was deleted
 * (`rm`, the data folder removed) or another file took its place (`mv`, a restore over a running service).
 * Hint: SQLite keeps writing to the file it opened, so the service would go on answering certificates that a
 * restart can never find.
 */
export function checkInPlace(path: string, fd: number): void {
  const held = fstatSync(fd);
  let current: ReturnType<typeof statSync>;
  try {
    current = held.nlink > 0 ? statSync(path, { throwIfNoEntry: false }) : undefined;
  } catch {
    // Hint: a folder its user may no longer search (chmod): the file is still there, and what was synced is kept.
    return;
  }
  if (current?.ino === held.ino && current.dev === held.dev) return;
  throw storageFailure(
    `${path} was ${current ? "replaced" : "removed"} while iota-server ran: nothing written since then is in the data folder. Stop iota-server, put the database back (see Backups in docs/server.md) and start it again`,
  );
}
