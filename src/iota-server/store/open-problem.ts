/** Why a database did not open, in one line an operator can act on, naming the host and never the password. */

import { lookup } from "node:dns/promises";
import { isIP } from "node:net";
import { namedTlsMode, postgresHost, redactUrl } from "./database-url.ts";
import { settleWithin } from "../../core/deadline.ts";

/** Codes of a failure to reach the database server at all (Bun.SQL reports a host it cannot resolve as refused). */
const UNREACHED =
  /^(ERR_POSTGRES_CONNECTION_(REFUSED|FAILED|CLOSED|TIMEOUT)|ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH)$/;

/** How long the host name may take to resolve for the message; the service stops either way. */
const LOOKUP_MS = 10_000;

/** Codes of a server certificate that does not chain to a CA this machine trusts (Bun gives OpenSSL's names). */
const UNTRUSTED =
  /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT(_LOCALLY)?|SELF_SIGNED_CERT_IN_CHAIN|DEPTH_ZERO_SELF_SIGNED_CERT|CERT_UNTRUSTED|CERT_SIGNATURE_FAILURE)$/;

/** `cannot open the database URL: REASON` for `error`, thrown while opening `url`. */
export async function databaseOpenProblem(url: string, error: unknown): Promise<string> {
  const e = error as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === "string" ? e.code : undefined;
  const message = String(e?.message ?? error);
  const reason =
    (code !== undefined && UNREACHED.test(code) ? await unreached(url, code) : undefined) ??
    (code !== undefined ? tlsProblem(url, code, message) : undefined) ??
    (code === "ERR_INVALID_URL"
      ? "it is not a valid URL (ERR_INVALID_URL): percent-encode a password holding / @ : ? or # (%2F %40 %3A %3F %23)"
      : `${message}${code ? ` (${code})` : ""}`);
  return `cannot open the database ${redactUrl(url)}: ${reason}`;
}

/** The host Bun.SQL connects to (a socket's folder included) and `host:port`. */
function serverAddress(url: string): { host: string; at: string } {
  let port: string;
  try {
    port = new URL(url).port || "5432";
  } catch {
    port = "5432";
  }
  const host = postgresHost(url);
  return { host, at: `${host.includes(":") ? `[${host}]` : host}:${port}` };
}

/** The reason TLS with the PostgreSQL server failed, for the codes Bun.SQL and OpenSSL give; else undefined. */
function tlsProblem(url: string, code: string, message: string): string | undefined {
  if (code === "ERR_INVALID_ARG_TYPE" && /caFile/.test(message))
    return `the sslrootcert file the URL names cannot be read (${code}): give the path of the CA certificate (PEM) that signed the server's`;
  const server = serverAddress(url);
  const at = `PostgreSQL at ${server.at}`;
  if (code === "ERR_POSTGRES_TLS_NOT_AVAILABLE") {
    const named = namedTlsMode(url);
    return named === undefined
      ? `${at} does not offer TLS (${code}), which iota-server asks of a database across a network: turn ssl on in its postgresql.conf, or add sslmode=disable to the URL for a network you trust`
      : `${at} does not offer TLS (${code}), which sslmode ${named} asks for: turn ssl on in its postgresql.conf`;
  }
  if (UNTRUSTED.test(code))
    return `the certificate of ${at} does not chain to a CA this machine trusts (${code}): add sslrootcert=FILE to the URL, FILE the CA certificate (PEM) that signed it`;
  if (code === "CERT_HAS_EXPIRED" || code === "CERT_NOT_YET_VALID")
    return `the certificate of ${at} is not valid now (${code}): renew it, or check this machine's clock`;
  if (code === "ERR_TLS_CERT_ALTNAME_INVALID")
    return `the certificate of ${at} does not name ${server.host} (${code}): connect by a name or address the certificate holds`;
  return undefined;
}

/** The reason a PostgreSQL server was not reached: a host name that does not resolve, or what the host did. */
async function unreached(url: string, code: string): Promise<string> {
  const { host, at } = serverAddress(url);
  if (isIP(host) === 0 && !host.startsWith("/")) {
    const failure = await resolves(host);
    if (failure !== undefined)
      return `the database host ${host} cannot be resolved (${failure}): check the host name in --db / IOTA_DB`;
  }
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
