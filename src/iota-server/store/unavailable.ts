/** Which database errors mean "the database cannot be used right now" rather than a fault of the request. */

/** Seconds a client is asked to wait when the database is unavailable. */
export const DATABASE_RETRY_AFTER = 5;

/**
 * The code of an error that says the database cannot be used right now (PostgreSQL down or unreachable, SQLite
 * locked past its busy timeout); undefined for any other error. Hint: Bun.SQL names its connection failures
 * ERR_POSTGRES_CONNECTION_* and its timeouts ERR_POSTGRES_*_TIMEOUT.
 */
export function databaseUnavailable(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code !== "string") return undefined;
  if (/^ERR_POSTGRES_(CONNECTION_\w+|\w*TIMEOUT)$/.test(code)) return code;
  const network = [
    "ECONNREFUSED",
    "ECONNRESET",
    "ETIMEDOUT",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "SQLITE_BUSY",
  ];
  return network.includes(code) ? code : undefined;
}
