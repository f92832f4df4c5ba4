/** Which database errors mean "the database cannot be used right now" rather than a fault of the request. */

import { DATABASE_NO_ANSWER } from "./answer-watch.ts";
import { STORAGE_FAILED } from "./storage-failure.ts";

/** Seconds a client is asked to wait when the database is unavailable. */
export const DATABASE_RETRY_AFTER = 5;

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
  if (/^ERR_POSTGRES_(CONNECTION_\w+|\w*TIMEOUT|TLS_\w+)$/.test(code)) return code;
  // Hint: a reconnection whose TLS failed (the database's certificate replaced by one of another CA, say).
  if (
    /^(ERR_TLS_\w+|UNABLE_TO_\w+|CERT_\w+|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN)$/.test(
      code,
    )
  )
    return code;
  if (/^SQLITE_(BUSY|FULL|IOERR|READONLY|CANTOPEN)(_\w+)?$/.test(code)) return code;
  const others = ["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH"];
  return others.includes(code) || code === STORAGE_FAILED || code === DATABASE_NO_ANSWER
    ? code
    : undefined;
}
