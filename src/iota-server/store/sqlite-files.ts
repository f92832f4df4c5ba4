/**
 * The embedded SQLite database's files, checked before the service opens them: a database that went missing
 * from a data folder that served with one, and files the service could read but not write, stop the start
 * (exit 3) instead of a new CA or a service that fails every write.
 */

import { accessSync, constants, existsSync } from "node:fs";
import { join } from "node:path";
import { cannotStart } from "../exit.ts";

/** The files of SQLite database `file` in WAL mode: the database, its write-ahead log and its shared memory. */
export function sqliteFiles(file: string): string[] {
  return [file, `${file}-wal`, `${file}-shm`];
}

/** Files only a started service writes into its data folder: a database created after them is not its own. */
const STARTED_FILES = ["server-ca.pem", "admin-token"];

/**
 * Refuses (exit 3) to start a new CA in a data folder that served with another database: a database that was
 * deleted, moved, or left out of a restore would otherwise be replaced, silently, by a new tenant CA that none of
 * the fleet's certificates chain to, and a new admin token over the old one.
 */
export function refuseLostDatabase(dataDir: string, file: string): void {
  const found = STARTED_FILES.filter((name) => existsSync(join(dataDir, name)));
  if (found.length === 0) return;
  throw cannotStart(
    `${file} holds no CA, but ${dataDir} holds the ${found.join(" and ")} of a service that ran with a database: it was removed or moved, or a restore left it out. Put the database back (a backup: see Backups in docs/server.md); to start over with a new CA instead, remove ${found.map((name) => join(dataDir, name)).join(" and ")} (and ${file} if it exists)`,
  );
}

/**
 * Checks `file` (the database) and its WAL files before they are opened: a missing database in a used data folder
 * (see {@link refuseLostDatabase}), or one the service may not write. Hint: SQLite opens a file it may not
 * write read-only without a word, and the service would then start and fail every provisioning.
 */
export function checkDatabaseFiles(dataDir: string, file: string): void {
  if (!existsSync(file)) {
    refuseLostDatabase(dataDir, file);
    return;
  }
  for (const path of sqliteFiles(file)) {
    if (!existsSync(path)) continue;
    try {
      accessSync(path, constants.R_OK | constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? "";
      throw cannotStart(
        `${path} cannot be written by the user running iota-server${code === "EROFS" ? " (its file system is read-only)" : ""}: give that user read and write access to it (chmod u+rw, chown), or run iota-server as its owner`,
      );
    }
  }
}
