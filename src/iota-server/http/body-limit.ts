/** The request body size limit: 413 before more than the limit is buffered, for hono routes and plain handlers alike. */

import type { MiddlewareHandler } from "hono";
import { IotaError } from "../../core/errors.ts";
import { settleWithin } from "../../core/deadline.ts";

/** Longest a request body may take to arrive. */
export const BODY_DEADLINE_MS = 30_000;

/** A body that trickled in for longer than {@link BODY_DEADLINE_MS}. */
function tooSlow(): IotaError {
  return new IotaError(
    "timeout",
    `The request body did not arrive within ${BODY_DEADLINE_MS / 1000} s`,
  );
}

/**
 * A body the client stopped sending halfway. Hint: the client's failure, not the service's, so it is
 * never logged as a server error.
 */
function cutOff(): IotaError {
  return new IotaError("invalid", "The request body did not arrive completely", {
    errors: [{ field: "(body)", message: "was cut off before its end" }],
  });
}

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
  const deadline = Date.now() + BODY_DEADLINE_MS;
  for (;;) {
    const { done, value } = await beforeDeadline(reader.read(), deadline);
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

/**
 * `reading` (a body read) if it settles before `deadline` (epoch ms): `timeout` after it, and `invalid` when
 * the client cut the body off.
 */
export async function beforeDeadline<T>(reading: Promise<T>, deadline: number): Promise<T> {
  try {
    return await settleWithin(reading, Math.max(0, deadline - Date.now()), () => {
      throw tooSlow();
    });
  } catch (error) {
    if (error instanceof IotaError) throw error;
    throw cutOff();
  }
}

/** {@link limitBody} as hono middleware. */
export function bodyLimit(max: number): MiddlewareHandler {
  return async (c, next) => {
    c.req.raw = await limitBody(c.req.raw, max);
    await next();
  };
}
