/** The request body size limit: 413 before more than the limit is buffered, for hono routes and plain handlers alike. */

import type { MiddlewareHandler } from "hono";
import { IotaError } from "../../core/errors.ts";

/** The 413 answer for a body over `max` bytes. */
function tooLarge(max: number): IotaError {
  return new IotaError("too-large", `The request body is larger than ${max} bytes`);
}

/**
 * `req` when its body is within `max` bytes, else a 413. A declared Content-Length is trusted (the
 * server reads no more than it) and answered without a turn of the event loop; a chunked body is read
 * up to the limit and handed on as a new request.
 */
export function limitBody(req: Request, max: number): Request | Promise<Request> {
  const headers = req.headers;
  if (headers.has("content-length") && !headers.has("transfer-encoding")) {
    // Hint: `req.body` builds a stream in Bun, so it is only asked when the declared length is over the limit.
    if (parseInt(headers.get("content-length") || "0", 10) > max && req.body) throw tooLarge(max);
    return req;
  }
  return req.body ? readWithin(req, req.body, max) : req;
}

/** Reads a body of undeclared length, refusing it as soon as it passes `max` bytes. */
async function readWithin(
  req: Request,
  body: ReadableStream<Uint8Array>,
  max: number,
): Promise<Request> {
  let size = 0;
  let buffer = new Uint8Array(0);
  const reader = body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const offset = size;
    size += value.length;
    if (size > max) throw tooLarge(max);
    if (size > buffer.length) {
      const grown = new Uint8Array(Math.min(max, Math.max(size, buffer.length * 2)));
      grown.set(buffer.subarray(0, offset));
      buffer = grown;
    }
    buffer.set(value, offset);
  }
  return new Request(req, { body: buffer.subarray(0, size) });
}

/** {@link limitBody} as hono middleware. */
export function bodyLimit(max: number): MiddlewareHandler {
  return async (c, next) => {
    c.req.raw = await limitBody(c.req.raw, max);
    await next();
  };
}
