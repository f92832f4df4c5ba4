/** The server's data folder: created 0700; the master key and admin token files 0600, written atomically. */

import {
  chmodSync,
  closeSync,
  fchmodSync,
  existsSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  writeSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { newMasterKey } from "./ca/sealer.ts";
import { cannotStart } from "./exit.ts";

/** Writes `text` to `path` with mode 0600 via a temporary file, fsync and rename. */
export function writeSecretFile(path: string, text: string): void {
  writeAtomic(path, text, 0o600);
}

/** Writes a public file (a CA certificate) with mode 0644, atomically; the 0700 folder still guards it. */
export function writePublicFile(path: string, text: string): void {
  writeAtomic(path, text, 0o644);
}

function writeAtomic(path: string, text: string, mode: number): void {
  const tmp = join(dirname(path), `.${Date.now()}.${process.pid}.tmp`);
  const fd = openSync(tmp, "w", mode);
  try {
    // Hint: the service runs with umask 077; a public file gets its mode explicitly.
    fchmodSync(fd, mode);
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}

/** Creates the data folder (0700) if needed. */
export function ensureDataDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
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

/** The master key: from the environment when given, else DIR/master.key, created on first start. */
export function loadMasterKey(dir: string, fromEnv?: string): Uint8Array {
  if (fromEnv) return decodeMasterKey(fromEnv, "IOTA_MASTER_KEY");
  const path = join(dir, "master.key");
  if (!existsSync(path))
    writeSecretFile(path, `${Buffer.from(newMasterKey()).toString("base64url")}\n`);
  return decodeMasterKey(readFileSync(path, "utf8"), path);
}
