/** The server's data folder: created 0700, never loosened or tightened; the master key and admin token files 0600. */

import {
  accessSync,
  chmodSync,
  closeSync,
  constants,
  fchmodSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { newMasterKey } from "./ca/sealer.ts";
import { cannotStart } from "./exit.ts";
import { syncFolder } from "../core/files.ts";
import { sqliteFiles } from "./store/sqlite-files.ts";

/** Writes `text` to `path` with mode 0600 via a temporary file, fsync and rename. */
export function writeSecretFile(path: string, text: string): void {
  writeAtomic(path, text, 0o600);
}

/** Writes a public file (a CA certificate) with mode 0644, atomically; the 0700 folder still guards it. */
export function writePublicFile(path: string, text: string): void {
  writeAtomic(path, text, 0o644);
}

function writeAtomic(path: string, text: string, mode: number): void {
  stageFile(path, text, mode).commit();
}

/** A file written and synced beside its final path: `commit` renames it into place, `discard` removes it. */
export interface StagedFile {
  /** Where the file waits until `commit`. */
  path: string;
  commit(): void;
  discard(): void;
}

/**
 * Writes a secret file (0600) beside `path` without replacing it yet. Hint: a change that must agree with
 * the database stages its file first, commits the database, then the file, so neither is left half-done.
 */
export function stageSecretFile(path: string, text: string): StagedFile {
  return stageFile(path, text, 0o600);
}

function stageFile(path: string, text: string, mode: number): StagedFile {
  const tmp = join(dirname(path), `.${Date.now()}.${process.pid}.tmp`);
  const fd = openSync(tmp, "w", mode);
  try {
    // Hint: the service runs with umask 077; a public file gets its mode explicitly.
    fchmodSync(fd, mode);
    writeSync(fd, text);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(tmp, { force: true });
    throw error;
  }
  closeSync(fd);
  return {
    path: tmp,
    commit: () => {
      renameSync(tmp, path);
      syncFolder(dirname(path));
    },
    discard: () => rmSync(tmp, { force: true }),
  };
}

/** What to do about a data folder the service refuses, for every refusal's message. */
const USE_OWN_FOLDER =
  "give --data (IOTA_DATA) a folder of its own: a path that does not exist yet is created with mode 0700";

/**
 * Creates the data folder with mode 0700 when it does not exist. An existing folder is used as it is, never
 * chmod-ed: it may be shared (`/tmp`), and changing its mode would break its other users. It is refused
 * (exit 3) when it is not a folder, when another user owns it, or when others may write to it: whoever can
 * write there can replace the master key, the database or the admin token file.
 */
export function ensureDataDir(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    if ((error as { code?: unknown }).code !== "EEXIST")
      throw cannotStart(
        `Cannot create the data folder ${dir}: ${(error as Error).message}; ${USE_OWN_FOLDER}`,
      );
  }
  const uid = process.geteuid?.();
  // Hint: checked even when mkdir just created it; another user may have created the path first.
  const stat = statSync(dir);
  if (!stat.isDirectory())
    throw cannotStart(`The data folder ${dir} exists and is not a folder; ${USE_OWN_FOLDER}`);
  if (uid !== undefined && stat.uid !== uid)
    throw cannotStart(
      `The data folder ${dir} belongs to user ${stat.uid}, not to the user running iota-server (${uid}); that user could replace the master key and database in it. Use it as its owner, or ${USE_OWN_FOLDER}`,
    );
  try {
    accessSync(dir, constants.W_OK | constants.X_OK);
  } catch {
    throw cannotStart(
      `The data folder ${dir} cannot be written by the user running iota-server${uid === undefined ? "" : ` (${uid})`}; it writes its database, keys and admin token there. Give it write access (chmod u+w), or ${USE_OWN_FOLDER}`,
    );
  }
  const mode = stat.mode & 0o7777;
  if (mode & 0o022)
    throw cannotStart(
      `The data folder ${dir} can be written by other users (mode ${mode.toString(8).padStart(4, "0")}), who could replace the master key and database in it; iota-server does not change the mode of an existing folder. Remove their write access (chmod go-w) if the folder is only this service's, or ${USE_OWN_FOLDER}`,
    );
}

/** Decodes a 32-byte key from base64url or hex; throws naming `source` otherwise. */
export function decodeMasterKey(text: string, source: string): Uint8Array {
  const trimmed = text.trim();
  const bytes = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, "hex")
    : Buffer.from(trimmed, "base64url");
  if (bytes.length !== 32)
    throw cannotStart(`${source} must hold a 32-byte key as base64url or hex`);
  return new Uint8Array(bytes);
}

/** The admin token file of data folder `dir` (0600, written at the tenant's creation or by rotate-admin-token). */
export function adminTokenPath(dir: string): string {
  return join(dir, "admin-token");
}

/** The master key file of data folder `dir`, unless IOTA_MASTER_KEY gives the key. */
export function masterKeyPath(dir: string): string {
  return join(dir, "master.key");
}

/**
 * The master key and where it came from: the environment when given, else DIR/master.key. The file is created
 * only for a database that holds no sealed key yet (`mayCreate`): a new key could not open those, so a
 * replica or a restored backup without the key stops (exit 3) instead of writing a key that never fits.
 */
export function loadMasterKey(
  dir: string,
  fromEnv: string | undefined,
  mayCreate: boolean,
): { key: Uint8Array; source: string } {
  if (fromEnv)
    return { key: decodeMasterKey(fromEnv, "IOTA_MASTER_KEY"), source: "IOTA_MASTER_KEY" };
  const path = masterKeyPath(dir);
  if (!existsSync(path)) {
    if (!mayCreate)
      throw cannotStart(
        `${path} is missing, and the database already holds keys sealed with a master key: copy the master.key of the data folder the database was created in (restore it with a backup), or give the other replicas' key in IOTA_MASTER_KEY`,
      );
    writeSecretFile(path, `${Buffer.from(newMasterKey()).toString("base64url")}\n`);
  }
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw cannotStart(
      `${path} cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); it must be a file the user running iota-server can read`,
    );
  }
  return { key: decodeMasterKey(text, path), source: path };
}

/**
 * Sets the service's secret files to 0600 when others may read them: the master key and admin token of data
 * folder `dir`, and the SQLite database's files (`file`, `-wal`, `-shm`), as copies restored with `cp` or
 * `sqlite3 .backup` (0644) are; returns what it changed. Hint: new files are 0600 already (umask 077).
 */
export function tightenSecretFiles(dir: string, file: string | undefined): string[] {
  const secrets = [masterKeyPath(dir), adminTokenPath(dir)];
  if (file !== undefined) secrets.push(...sqliteFiles(file));
  const changed: string[] = [];
  for (const path of secrets) {
    if (!existsSync(path)) continue;
    const mode = statSync(path).mode & 0o777;
    if ((mode & 0o077) === 0) continue;
    chmodSync(path, 0o600);
    changed.push(`${path} (was ${mode.toString(8).padStart(4, "0")})`);
  }
  return changed;
}
