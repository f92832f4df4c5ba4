/** The one access-log line per request, and the source address a request is counted against. */

import type { Logger } from "./logger.ts";

/** What Bun.serve hands a handler beside the request; absent in-process (`app.request`). */
export interface PeerSource {
  requestIP?: (req: Request) => { address: string } | null;
}

/** The source address of a request: the socket peer under Bun.serve, `local` in-process. */
export function requestSource(server: PeerSource | undefined, req: Request): string {
  return server?.requestIP?.(req)?.address ?? "local";
}

/** Logs the request's line; `started` is its `performance.now()` on arrival. */
export function logAccess(log: Logger, method: string, path: string, status: number, started: number): void {
  // Hint: only method, path and status are logged; paths hold names, never secrets.
  log.info(`${method} ${path} ${status} ${(performance.now() - started).toFixed(1)}ms`);
}
