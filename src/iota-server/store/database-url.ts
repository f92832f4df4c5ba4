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
 * The TLS iota-server asks of a PostgreSQL server reached over a network when its URL names no mode: Bun.SQL's
 * `verify-full`. Hint: as an object with `rejectUnauthorized`, not the mode's name, so a stray
 * NODE_TLS_REJECT_UNAUTHORIZED=0 in the service's environment cannot turn the check off (it does for the name).
 */
export const VERIFIED_TLS = Object.freeze({ rejectUnauthorized: true as const });

/**
 * Whether a PostgreSQL URL reaches its server without crossing a network: a unix socket (`?host=/run/...`, or a
 * percent-encoded path as the host), `localhost`, or a loopback address. An unreadable URL is not: Bun.SQL
 * refuses it anyway.
 */
export function postgresOnThisHost(url: string): boolean {
  // Hint: read from the text, as `postgres://user@/db?host=/run/postgresql` is no WHATWG URL (Bun.SQL reads it).
  if (/[?&]host=(\/|%2F)/i.test(url)) return true;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  const host = decodeURIComponent(parsed.hostname)
    .replace(/^\[(.*)\]$/, "$1")
    .toLowerCase();
  if (host === "" || host.startsWith("/")) return true;
  if (host === "localhost" || host.endsWith(".localhost")) return true;
  if (isIP(host) === 4) return host.startsWith("127.");
  return isIP(host) === 6 && (host === "::1" || host === "0:0:0:0:0:0:0:1");
}

/**
 * The TLS option the PostgreSQL driver passes Bun.SQL for `url`:
 * - the URL names no mode (`sslmode`, `ssl` or `tls`): {@link VERIFIED_TLS} for a server across a network (its
 *   certificate must chain to the system's CAs, or to the URL's `sslrootcert`, and name the host), so neither the
 *   login nor the fleet's records travel in clear by default; none for a server on this machine;
 * - `sslmode=verify-ca` or `verify-full`: {@link VERIFIED_TLS} too, which keeps that mode and its check whatever
 *   the environment says;
 * - any other mode (`disable`, `require`...): none, the operator's explicit choice as the URL states it.
 */
export function postgresTls(url: string): typeof VERIFIED_TLS | undefined {
  const mode = /[?&]sslmode=([^&#]*)/i.exec(url)?.[1]?.toLowerCase();
  if (mode === "verify-ca" || mode === "verify-full") return VERIFIED_TLS;
  if (/[?&](sslmode|ssl|tls)=/i.test(url)) return undefined;
  return postgresOnThisHost(url) ? undefined : VERIFIED_TLS;
}
