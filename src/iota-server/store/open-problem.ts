/** Why a database did not open, in one line an operator can act on, naming the host and never the password. */

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { redactUrl } from "./database-url.ts";
import { settleWithin } from "../../core/deadline.ts";

/** Codes of a failure to reach the database server at all (Bun.SQL reports a host it cannot resolve as refused). */
const UNREACHED =
  /^(ERR_POSTGRES_CONNECTION_(REFUSED|FAILED|CLOSED|TIMEOUT)|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)$/;

/** How long the host name may take to resolve for the message; the service stops either way. */
const LOOKUP_MS = 10_000;

/** `cannot open the database URL: REASON` for `error`, thrown while opening `url`. */
export async function databaseOpenProblem(url: string, error: unknown): Promise<string> {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === "string" ? e.code : undefined;
  const reason =
    (code !== undefined && UNREACHED.test(code) ? await unreached(url, code) : undefined) ??
    (code === "ERR_INVALID_URL"
      ? "it is not a valid URL (ERR_INVALID_URL): percent-encode a password holding / @ : ? or # (%2F %40 %3A %3F %23)"
      : `${String(e?.message ?? error)}${code ? ` (${code})` : ""}`);
  return `cannot open the database ${redactUrl(url)}: ${reason}`;
}

/** The reason a PostgreSQL server was not reached: a host name that does not resolve, or what the host did. */
async function unreached(url: string, code: string): Promise<string | undefined> {
  let host: string;
  let port: string;
  try {
    const parsed = new URL(url);
    host = decodeURIComponent(parsed.hostname).replace(/^\[(.*)\]$/, "$1");
    port = parsed.port || "5432";
  } catch {
    return undefined;
  }
  if (host === "") return undefined;
  if (isIP(host) === 0 && !host.startsWith("/")) {
    const failure = await resolves(host);
    if (failure !== undefined)
      return `the database host ${host} cannot be resolved (${failure}): check the host name in --db / IOTA_DB`;
  }
  const at = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  if (/REFUSED$/.test(code))
    return `PostgreSQL refused the connection at ${at} (${code}): is it running, and listening there?`;
  return `PostgreSQL at ${at} could not be reached (${code}): check the address and the network`;
}

/** undefined when `host` resolves; otherwise the resolver's code (ENOTFOUND, EAI_AGAIN, ...). */
async function resolves(host: string): Promise<string | undefined> {
  const resolved = lookup(host).then(
    () => undefined,
    (error: { code?: unknown }) =>
      typeof error.code === "string" ? error.code : "the resolver failed",
  );
  return await settleWithin(resolved, LOOKUP_MS, () => `no answer within ${LOOKUP_MS / 1000} s`);
}
