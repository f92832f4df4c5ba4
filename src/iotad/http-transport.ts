/** A minimal JSON-over-HTTP(S) client on node:http, so the agent runs the same on Bun and on Node.js 18. */

import * as http from "node:http";
import * as https from "node:https";
import { isClockError, requestIgnoringClock } from "./clock-tolerant-tls.ts";

/** A received answer: status, lower-case headers, body text. */
export interface HttpAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Sends one request; rejects only when no answer arrived (network, TLS, timeout). */
export type HttpTransport = (request: {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
}) => Promise<HttpAnswer>;

/** Options of the real transport. */
export interface NodeTransportOptions {
  /** The CA (PEM) an https server must chain to: the only trust; the system roots when absent. */
  ca?: string;
  /** Give up after this many ms without an answer. */
  timeoutMs?: number;
  /** Largest answer body accepted. */
  maxBodyBytes?: number;
}

/**
 * The TLS options of a request: verification on, and with `ca` that CA alone. Node's `ca` replaces the
 * system roots (NODE_EXTRA_CA_CERTS included), which is the point: a pinned private CA must not be
 * overridable by any public CA, nor depend on a device's stale root store. An explicit
 * `rejectUnauthorized` also outvotes NODE_TLS_REJECT_UNAUTHORIZED=0 in the environment.
 */
export function tlsOptions(url: URL, ca: string | undefined): https.RequestOptions {
  if (url.protocol !== "https:") return {};
  return ca === undefined ? { rejectUnauthorized: true } : { ca, rejectUnauthorized: true };
}

/** The real transport (built by main.ts). */
export function nodeHttpTransport(options: NodeTransportOptions = {}): HttpTransport {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const maxBody = options.maxBodyBytes ?? 1024 * 1024;
  const send = (request: Parameters<HttpTransport>[0]) =>
    new Promise<HttpAnswer>((resolve, reject) => {
      const url = new URL(request.url);
      const lib = url.protocol === "https:" ? https : http;
      const tls = tlsOptions(url, options.ca);
      const req = lib.request(
        url,
        { method: request.method, headers: request.headers, timeout: timeoutMs, ...tls },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > maxBody)
              req.destroy(new Error(`the answer is larger than ${maxBody} bytes`));
            else chunks.push(chunk);
          });
          res.on("end", () => {
            const headers: Record<string, string> = {};
            for (const [name, value] of Object.entries(res.headers)) {
              if (value !== undefined)
                headers[name.toLowerCase()] = Array.isArray(value) ? value.join(", ") : value;
            }
            resolve({
              status: res.statusCode ?? 0,
              headers,
              body: Buffer.concat(chunks).toString("utf8"),
            });
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () =>
        req.destroy(new Error(`no answer within ${Math.round(timeoutMs / 1000)} s`)),
      );
      req.on("error", reject);
      if (request.body !== undefined) req.write(request.body);
      req.end();
    });
  return async (request) => {
    try {
      return await send(request);
    } catch (error) {
      // Hint: only a pinned CA, and only a certificate the local clock disagrees with (see clock-tolerant-tls.ts).
      if (options.ca === undefined || !isClockError(error)) throw error;
      const url = new URL(request.url);
      return await requestIgnoringClock({ ...request, url }, options.ca, timeoutMs, maxBody);
    }
  };
}
