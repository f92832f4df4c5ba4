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
