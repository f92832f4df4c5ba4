/** Server URLs in iotactl: checked, written one canonical way (the key a token and a CA are kept under), and the plain-HTTP rule. */

import { isPlainHttpBeyondLoopback, PLAIN_HTTP_RISK } from "../core/plain-http.ts";
import { usageError } from "./exit-codes.ts";

/**
 * Checks a server URL and returns its canonical form: scheme and host in lower case, no default port,
 * no trailing slash (`HTTPS://Iota.Example.com:443/` → `https://iota.example.com`). A path prefix (a
 * server behind a reverse proxy at `/iota`) is kept. Credentials, a query or a fragment are refused:
 * they would end up in the config file or in every request.
 */
export function checkServerUrl(url: string, what: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw usageError(
      `${what} must be a URL such as https://iota.example.com:8440, got ${JSON.stringify(url)}`,
    );
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw usageError(`${what} must start with https:// or http://, got ${JSON.stringify(url)}`);
  if (parsed.username !== "" || parsed.password !== "")
    throw usageError(`${what} must not hold a user name or password; the admin token is separate`);
  if (parsed.search !== "" || parsed.hash !== "")
    throw usageError(`${what} must not have a query (?) or a fragment (#), got ${url}`);
  return canonicalServer(parsed);
}

/** The canonical form of a parsed server URL (see {@link checkServerUrl}). */
function canonicalServer(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, "")}`;
}

/** The same server, spelled perhaps differently (`https://H:443/` and `https://h`). */
export function sameServer(a: string, b: string): boolean {
  try {
    return canonicalServer(new URL(a)) === canonicalServer(new URL(b));
  } catch {
    return false;
  }
}

/**
 * Refuses a plain `http://` server that is not on loopback unless the user gave `--insecure`.
 * `source` says where the URL came from (`--server`, `IOTA_SERVER`, the config file).
 */
export function checkPlainHttp(server: string, source: string, insecure: boolean): void {
  if (insecure || !isPlainHttpBeyondLoopback(server)) return;
  throw usageError(
    `refusing ${server} (from ${source}): ${PLAIN_HTTP_RISK}; use https://, or give --insecure to accept that risk`,
  );
}
