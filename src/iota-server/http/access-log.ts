/** The one access-log line per request, and the source a request is counted against. */

import { logText, type Logger } from "../log.ts";
import { sourceKey } from "./source-key.ts";

/** What Bun.serve hands a handler beside the request; absent in-process (`app.request`). */
export interface PeerSource {
  requestIP?: (req: Request) => { address: string } | null;
}

/** IPv4 addresses as IPv4, also when a dual-stack socket reports them as `::ffff:a.b.c.d`. */
function plainAddress(address: string): string {
  return address.startsWith("::ffff:") && address.includes(".") ? address.slice(7) : address;
}

/**
 * The key a request is counted under (rate limits, throttling): the client address as {@link sourceKey} counts it
 * (IPv6 per /64). The client is the socket peer under Bun.serve, `local` in-process. Behind a load balancer listed
 * in `trustedProxies`, the right-most address of `X-Forwarded-For` that is not itself a trusted proxy; a client
 * cannot forge its way past that, since every proxy appends the address it saw.
 */
export function requestSource(
  server: PeerSource | undefined,
  req: Request,
  trustedProxies?: ReadonlySet<string>,
): string {
  const peer = plainAddress(server?.requestIP?.(req)?.address ?? "local");
  if (!trustedProxies?.has(peer)) return sourceKey(peer);
  const hops = (req.headers.get("x-forwarded-for") ?? "")
    .split(",")
    .map((hop) => plainAddress(hop.trim()))
    .filter((hop) => hop !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i] ?? "";
    if (!trustedProxies.has(hop)) return sourceKey(hop);
  }
  return sourceKey(peer);
}

/** Logs the request's line (method and path escaped by {@link logText}); `started` is its `performance.now()` on arrival. */
export function logAccess(
  log: Logger,
  method: string,
  path: string,
  status: number,
  started: number,
): void {
  // Hint: only method, path and status are logged; paths hold names, never secrets. The path is decoded (`%0a` is a
  // line break), so both request-controlled parts are escaped: one request, one line, four fields.
  log.info(
    `${logText(method)} ${logText(path)} ${status} ${(performance.now() - started).toFixed(1)}ms`,
  );
}
