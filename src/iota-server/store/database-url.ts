/** Database URLs: as operators may see them (never with a password), and the TLS they ask of PostgreSQL. */

import { isIP } from "node:net";

/**
 * The URL without its password: everything between the user name and the last `@` (a password may hold `@` or
 * `/` unencoded), and a `password=` parameter. Hint: an `@` after the host (rare) only hides more, never less.
 */
export function redactUrl(url: string): string {
  const hidden = url.replace(/([?&]password=)[^&#]*/gi, "$1***");
  const match = /^([a-z][a-z0-9+.-]*:\/\/)(.*)$/is.exec(hidden);
  if (!match) return hidden;
  const [, scheme = "", rest = ""] = match;
  const at = rest.lastIndexOf("@");
  const colon = rest.indexOf(":");
  if (at < 0 || colon < 0 || colon > at) return hidden;
  return `${scheme}${rest.slice(0, colon)}:***${rest.slice(at)}`;
}

/**
 * The TLS iota-server asks of a PostgreSQL server: Bun.SQL's `verify-full`. Hint: as an object with
 * `rejectUnauthorized`, not the mode's name, so a stray NODE_TLS_REJECT_UNAUTHORIZED=0 in the service's
 * environment cannot turn the check off (it does for the name); the object also keeps `verify-ca` as it is.
 */
export const VERIFIED_TLS = Object.freeze({ rejectUnauthorized: true as const });

/** The environment variables Bun.SQL reads for a PostgreSQL URL that leaves them out. */
export type PgEnv = Readonly<Record<string, string | undefined>>;

/**
 * The query parameters of a PostgreSQL URL, names in lower case (Bun.SQL reads them so), also of a URL that is
 * no WHATWG URL but that Bun.SQL reads (`postgres://user@/db?host=/run/postgresql`).
 */
function queryOf(url: string): Map<string, string> {
  let params: URLSearchParams;
  try {
    params = new URL(url).searchParams;
  } catch {
    const rest = url.slice(url.lastIndexOf("@") + 1);
    const at = rest.indexOf("?");
    params = new URLSearchParams(at < 0 ? "" : rest.slice(at + 1));
  }
  const query = new Map<string, string>();
  for (const [name, value] of params) query.set(name.toLowerCase(), value);
  return query;
}

/** The host part of a PostgreSQL URL (a socket's folder when percent-encoded), "" when it names none. */
function urlHost(url: string): string {
  try {
    return decodeURIComponent(new URL(url).hostname).replace(/^\[(.*)\]$/, "$1");
  } catch {
    return /^[a-z][a-z0-9+.-]*:\/\/(?:[^/?#]*@)?([^/?#:]*)/i.exec(url)?.[1] ?? "";
  }
}

/**
 * The host Bun.SQL connects to for `url`: the `host` parameter, else the URL's host, else `PGHOST`, else
 * localhost; a path is a unix socket's folder.
 */
export function postgresHost(url: string, env: PgEnv = process.env): string {
  return queryOf(url).get("host") || urlHost(url) || env.PGHOST || "localhost";
}

/** Whether `host` is this machine: a unix socket's folder, `localhost` (and names under it), a loopback address. */
function onThisHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h.startsWith("/") || h === "localhost" || h.endsWith(".localhost")) return true;
  if (isIP(h) === 4) return h.startsWith("127.");
  return isIP(h) === 6 && (h === "::1" || h === "0:0:0:0:0:0:0:1");
}

/** Whether a PostgreSQL URL (with `PGHOST` when it names no host) reaches its server without crossing a network. */
export function postgresOnThisHost(url: string, env: PgEnv = process.env): boolean {
  return onThisHost(postgresHost(url, env));
}

/** What turns TLS off when it is a URL's `ssl` or `tls` value. */
const OFF = /^(false|0|off|no|disable)$/i;

/**
 * The mode the URL (or `PGSSLMODE`) names for TLS, as Bun.SQL reads it: its `sslmode`, else `PGSSLMODE`, else
 * `verify-full` for an `ssl`/`tls` parameter that turns TLS on (Bun.SQL would take it for `require`) and
 * `disable` for one that turns it off; undefined when nothing names one.
 */
export function namedTlsMode(url: string, env: PgEnv = process.env): string | undefined {
  const query = queryOf(url);
  const mode = query.get("sslmode") || env.PGSSLMODE;
  if (mode) return mode.toLowerCase();
  const flag = query.get("ssl") || query.get("tls");
  if (!flag) return undefined;
  return OFF.test(flag) ? "disable" : "verify-full";
}

/**
 * The TLS option the PostgreSQL driver passes Bun.SQL for `url`:
 * - a mode that verifies (`verify-ca`, `verify-full`, or `ssl=true`): {@link VERIFIED_TLS}, which holds that
 *   mode and its check whatever the environment says;
 * - another mode the URL or `PGSSLMODE` names (`disable`, `require`...): none, the operator's explicit choice;
 * - no mode: {@link VERIFIED_TLS} for a server across a network (its certificate must chain to the system's CAs,
 *   or to the URL's `sslrootcert`, and name the host), so neither the login nor the fleet's records travel in
 *   clear by default; none for a server on this machine.
 */
export function postgresTls(
  url: string,
  env: PgEnv = process.env,
): typeof VERIFIED_TLS | undefined {
  const mode = namedTlsMode(url, env);
  if (mode === "verify-ca" || mode === "verify-full") return VERIFIED_TLS;
  if (mode !== undefined) return undefined;
  return postgresOnThisHost(url, env) ? undefined : VERIFIED_TLS;
}

/** How the connection to the PostgreSQL server `url` names is protected, in words for the start lines. */
export function postgresTransport(url: string, env: PgEnv = process.env): string {
  const mode = namedTlsMode(url, env);
  if (postgresTls(url, env))
    return mode === "verify-ca"
      ? "TLS, the server's certificate checked against its CA (verify-ca)"
      : "TLS, the server's certificate verified (verify-full)";
  if (mode === undefined) return "on this machine, without TLS";
  if (mode === "disable") return "in clear, as sslmode disable asks";
  if (mode === "require")
    return "TLS without a check of the server's certificate (sslmode require)";
  return `TLS if the server offers it, without a check of its certificate (sslmode ${mode})`;
}
