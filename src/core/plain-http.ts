/** The plain-HTTP rule both clients apply: `http://` only to a loopback host, unless the user accepts the risk. */

/**
 * True for a loopback host as a WHATWG URL spells its `hostname`: `localhost`, any address in
 * 127.0.0.0/8, and `[::1]`. The URL parser has already normalised forms such as `127.1` or `[0::1]`.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  if (host === "localhost" || host === "[::1]" || host === "::1") return true;
  const octets = host.split(".");
  return (
    octets.length === 4 &&
    octets[0] === "127" &&
    octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255)
  );
}

/**
 * True when `url` is `http://` to a host that is not loopback: the case where a token, a secret or a
 * group's provisioning secret would cross a network in clear text. False for https and for URLs that
 * do not parse (their own check reports those).
 */
export function isPlainHttpBeyondLoopback(url: string): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  return parsed.protocol === "http:" && !isLoopbackHost(parsed.hostname);
}

/** The risk, in the words both programs use when they refuse such a server. */
export const PLAIN_HTTP_RISK =
  "plain http:// beyond loopback sends tokens and secrets across the network in clear text, where anyone on the path can read them";
