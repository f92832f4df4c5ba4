/** Which database errors mean "the database cannot be used right now" rather than a fault of the request. */

import { DATABASE_NO_ANSWER } from "./answer-watch.ts";
import { STORAGE_FAILED } from "./storage-failure.ts";

/** Seconds a client is asked to wait when the database is unavailable. */
export const DATABASE_RETRY_AFTER = 5;

/** Bun.SQL's connection failures and timeouts, a reconnection whose TLS failed, and SQLite's storage errors. */
const UNAVAILABLE = [
  /^ERR_POSTGRES_(CONNECTION_\w+|\w*TIMEOUT|TLS_\w+)$/,
  // Hint: a reconnection whose TLS failed (the database's certificate replaced by one of another CA, say).
  /^(ERR_TLS_\w+|UNABLE_TO_\w+|CERT_\w+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)$/,
  /^SQLITE_(BUSY|FULL|IOERR|READONLY|CANTOPEN)(_\w+)?$/,
];

/** Socket errors, and the two codes of IoTA's own drivers. */
const OTHERS = [
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "ENETUNREACH",
  STORAGE_FAILED,
  DATABASE_NO_ANSWER,
];

/**
 * The code of an error that says the database cannot be used right now (PostgreSQL down or unreachable, SQLite
 * locked past its busy timeout, its disk full, its files unwritable or gone); undefined for any other error.
 * Hint: Bun.SQL names its connection failures ERR_POSTGRES_CONNECTION_* and its timeouts ERR_POSTGRES_*_TIMEOUT;
 * bun:sqlite gives SQLite's extended codes (SQLITE_IOERR_WRITE); IOTA_STORAGE_FAILED is the SQLite driver's own
 * (sqlite-driver.ts: a sync failed, or the database file was removed); IOTA_DATABASE_NO_ANSWER the PostgreSQL
 * driver's (answer-watch.ts: a statement waited, and the database did not answer a check either).
 */
export function databaseUnavailable(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== "string") return undefined;
  const known = UNAVAILABLE.some((pattern) => pattern.test(code)) || OTHERS.includes(code);
  return known ? code : undefined;
}
