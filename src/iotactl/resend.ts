/**
 * When iotactl sends a request again: a transient failure (the connection closed before the whole answer came, a
 * 502, 503 or 504: the server's database restarting or failing over, a proxy between) is tried again for a minute,
 * for requests that are safe to send twice. Those are reads, a device creation carrying its Idempotency-Key,
 * a bulk creation (it reports names that exist) and a provisioning (idempotent for the same key). A refused
 * connection is not retried: iota-server is not running there, and saying so at once helps more than waiting. Nor
 * is a connection an `http://` URL's TLS listener closed unanswered (see tls-probe.ts): the URL is wrong.
 */

/** How long after the first attempt a new one may start: a PostgreSQL restart or failover fits in it. */
export const RESEND_BUDGET_MS = 60_000;

/** The longest wait between two attempts, whatever a Retry-After asks. */
const MAX_WAIT_MS = 30_000;

/** The shortest wait between two attempts, whatever a Retry-After asks (`0` included). */
const MIN_WAIT_MS = 1_000;

/** Why a failure is worth another attempt; undefined when it is not (the answer stands, or the error is final). */
export function transientNetworkFailure(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (code === "ECONNRESET" || code === "ConnectionClosed" || code === "EPIPE")
    return "the connection was closed before an answer came";
  return undefined;
}

/** Why an answer's status is worth another attempt; undefined for any other status. */
export function transientStatus(status: number): string | undefined {
  if (status === 503) return "the server is unavailable for now (503)";
  if (status === 502 || status === 504) return `a gateway could not reach the server (${status})`;
  return undefined;
}

/**
 * The wait before attempt `attempt + 1`: the answer's Retry-After in seconds when it gives one, else 1, 2, 4
 * then 8 s; never less than {@link MIN_WAIT_MS} nor more than {@link MAX_WAIT_MS}.
 */
export function resendWait(attempt: number, retryAfter: string | null | undefined): number {
  const asked =
    retryAfter !== null && retryAfter !== undefined && /^\d{1,6}$/.test(retryAfter.trim());
  const ms = asked ? Number(retryAfter) * 1000 : 1000 * 2 ** Math.min(attempt - 1, 3);
  return Math.max(MIN_WAIT_MS, Math.min(ms, MAX_WAIT_MS));
}
