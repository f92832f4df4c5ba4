/**
 * fetch for iotactl on Node.js (the bundle for 32-bit hosts, where Bun has no runtime): node:http and node:https
 * with the TLS options Bun's fetch takes (see trust.ts: verification on, a pinned CA alone), no redirect followed,
 * no connection reused (each request verifies its own), and the request's AbortSignal.
 */

import * as http from "node:http";
import * as https from "node:https";
import type { FetchTls } from "./trust.ts";

/** What iotactl passes to fetch: a string body, and Bun's `tls`. */
type NodeFetchInit = RequestInit & { tls?: FetchTls };

/** The answer's headers as a Headers object, repeated ones appended. */
function answerHeaders(raw: http.IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(name, one);
  }
  return headers;
}

/** The request's headers as node:http takes them. */
function requestHeaders(init: HeadersInit | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  new Headers(init).forEach((value, name) => {
    headers[name] = value;
  });
  return headers;
}

/** One request over node:http(s), answered as a fetch Response once its whole body has arrived. */
function nodeFetchOnce(input: string | URL | Request, init: NodeFetchInit = {}): Promise<Response> {
  const url = new URL(input instanceof Request ? input.url : String(input));
  const method = init.method ?? "GET";
  const secure = url.protocol === "https:";
  const tls = init.tls ?? { rejectUnauthorized: true };
  const signal = init.signal ?? undefined;
  if (init.body !== undefined && init.body !== null && typeof init.body !== "string")
    return Promise.reject(new TypeError("iotactl sends JSON text bodies only"));
  return new Promise<Response>((resolve, reject) => {
    // Hint: a timeout's own reason (TimeoutError) says more than node's generic AbortError.
    const fail = (error: unknown) => reject(signal?.aborted ? signal.reason : error);
    const request = (secure ? https : http).request(
      url,
      {
        method,
        headers: requestHeaders(init.headers),
        agent: false,
        signal,
        ...(secure
          ? {
              rejectUnauthorized: tls.rejectUnauthorized,
              ...(tls.ca === undefined ? {} : { ca: tls.ca }),
            }
          : {}),
      },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on("data", (chunk: Buffer) => chunks.push(chunk));
        answer.on("aborted", () =>
          fail(
            Object.assign(new Error("the connection closed mid-answer"), { code: "ECONNRESET" }),
          ),
        );
        answer.on("error", fail);
        answer.on("end", () => {
          const status = answer.statusCode ?? 0;
          const empty = status === 204 || status === 304 || method === "HEAD";
          resolve(
            new Response(empty ? null : Buffer.concat(chunks), {
              status,
              statusText: answer.statusMessage ?? "",
              headers: answerHeaders(answer.headers),
            }),
          );
        });
      },
    );
    request.on("error", fail);
    if (typeof init.body === "string") request.write(init.body);
    request.end();
  });
}

/** {@link nodeFetchOnce} as a `typeof fetch`, for the Io that main.ts builds on Node.js. */
export const nodeFetch = nodeFetchOnce as unknown as typeof fetch;
