/**
 * The API's socket: Bun.serve over HTTPS (or plain HTTP when asked), with a TLS certificate that can be
 * replaced while the service runs. Hint: Bun.serve cannot change the certificate of a running server, so a
 * new server is bound to the same port first (SO_REUSEPORT) and the old one then stops accepting and
 * finishes what it has: no connection is refused during the swap.
 */

import type { Server } from "bun";
import { TLS12_CIPHERS } from "../tls/policy.ts";

/** The certificate chain and key the listener serves. */
export interface ListenerTls {
  certPem: string;
  keyPem: string;
}

/** What the listener serves and where. */
export interface ListenerOptions {
  host: string;
  port: number;
  /** HTTPS with this certificate; plain HTTP when undefined. */
  tls: ListenerTls | undefined;
  /** Routes Bun.serve dispatches itself (the issuing endpoints). */
  routes: Record<
    string,
    Record<string, (req: Request, server: Server<undefined>) => Response | Promise<Response>>
  >;
  /** Everything else. */
  fetch: (req: Request, server: Server<undefined>) => Response | Promise<Response>;
  /** Largest body Bun reads for any route (routes check their own smaller limits). */
  maxRequestBodySize: number;
  /** Seconds a connection may stay idle (no request, or a stalled body) before it is closed. */
  idleTimeout: number;
}

/** A running listener. */
export interface ApiListener {
  /** The port bound (the one the OS chose for port 0). */
  port: number;
  /** Serves `tls` to every new connection from now on. */
  replaceTls(tls: ListenerTls): Promise<void>;
  /** Stops listening; `force` also closes connections in progress. */
  stop(force?: boolean): Promise<void>;
}

/** Binds the listener. */
export function startListener(options: ListenerOptions): ApiListener {
  const serve = (tls: ListenerTls | undefined, port: number) =>
    Bun.serve({
      hostname: options.host,
      port,
      // Hint: only an HTTPS listener is ever swapped, so only it shares its port.
      reusePort: tls !== undefined,
      routes: options.routes as never,
      fetch: options.fetch,
      maxRequestBodySize: options.maxRequestBodySize,
      idleTimeout: options.idleTimeout,
      ...(tls
        ? {
            // Hint: `ciphers` is honoured by Bun although its type does not list it; TLS 1.0/1.1 are off by default.
            tls: { cert: tls.certPem, key: tls.keyPem, ciphers: TLS12_CIPHERS } as never,
          }
        : {}),
    });
  // Hint: a port of 0 is one the OS picks free; only a chosen port can be taken already.
  if (options.tls && options.port !== 0) ensurePortFree(options.host, options.port);
  let server = serve(options.tls, options.port);
  const port = server.port ?? options.port;
  return {
    port,
    async replaceTls(tls) {
      const previous = server;
      server = serve(tls, port);
      await previous.stop(false);
    },
    async stop(force = true) {
      await server.stop(force);
    },
  };
}

/**
 * Throws when another socket holds `host:port`. Hint: the HTTPS listener binds with SO_REUSEPORT (for the
 * swap), and Linux lets another process of the same user that does the same bind the port too, then splits
 * the connections between them: a second iota-server would start and answer half the requests with its own
 * CA. A plain bind first fails on a taken port, as it does for the plain-HTTP listener.
 */
function ensurePortFree(host: string, port: number): void {
  const probe = Bun.listen({ hostname: host, port, socket: { data() {} } });
  probe.stop(true);
}

/** A listen failure as an operator reads it: what the OS said, and a taken port named as such. */
export function listenProblem(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === "EADDRINUSE") return "the port is in use by another program (EADDRINUSE)";
  if (code === "EACCES")
    return "not allowed to listen there (EACCES; ports below 1024 need privileges)";
  const message = error instanceof Error ? error.message : String(error);
  return code && !message.includes(code) ? `${message} (${code})` : message;
}
