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

/** The `sslmode` iota-server asks of a PostgreSQL server reached over a network when its URL names none. */
export const NETWORK_SSLMODE = "verify-full";

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
 * The TLS the PostgreSQL driver asks for when the URL says nothing of it: {@link NETWORK_SSLMODE} for a server
 * across a network (its certificate must chain to the system's CAs, or to the URL's `sslrootcert`, and name the
 * host), so neither the password exchange nor the fleet's records travel in clear by default; none on this
 * machine. Undefined also when the URL names its own mode (`sslmode`, `ssl` or `tls`): `sslmode=disable` is the
 * operator's explicit choice for a network they trust.
 */
export function postgresTls(url: string): typeof NETWORK_SSLMODE | undefined {
  if (/[?&](sslmode|ssl|tls)=/i.test(url)) return undefined;
  return postgresOnThisHost(url) ? undefined : NETWORK_SSLMODE;
}
