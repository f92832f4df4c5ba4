/** The one place errors become HTTP answers: RFC 9457 problem details, never a stack trace. */

import type { Context } from "hono";
import { IotaError, isIotaError } from "../../core/problem.ts";
import type { Logger } from "./logger.ts";

/** A problem+json response for `error`. */
export function problemResponse(error: IotaError): Response {
  const headers: Record<string, string> = { "content-type": "application/problem+json" };
  if (error.retryAfter !== undefined) headers["retry-after"] = String(error.retryAfter);
  return new Response(JSON.stringify(error.toProblem()), { status: error.status, headers });
}

/** The answer for an error thrown by `method path`: expected errors as they are, anything else as a logged 500 without details. */
export function errorResponse(log: Logger, error: Error, method: string, path: string): Response {
  if (isIotaError(error)) return problemResponse(error);
  const status = (error as { status?: unknown }).status;
  if (typeof status === "number" && status >= 400 && status < 500)
    return problemResponse(new IotaError(status, error.message));
  log.error(`${method} ${path} failed: ${error.stack ?? error.message}`);
  return problemResponse(
    new IotaError(500, "The service failed to handle this request; it has been logged"),
  );
}

/** The hono app's error handler: {@link errorResponse}. */
export function errorHandler(log: Logger) {
  return (error: Error, c: Context): Response =>
    errorResponse(log, error, c.req.method, c.req.path);
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;

/** Reads a JSON body; 415 when it is not JSON, 400 when it does not parse. */
export async function readJson(req: Request): Promise<unknown> {
  if (!JSON_TYPE.test(req.headers.get("content-type") ?? "")) {
    throw new IotaError(415, "The request body must be JSON (Content-Type: application/json)");
  }
  const text = await req.text();
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new IotaError(400, `The request body is not valid JSON: ${(error as Error).message}`, {
      errors: [{ field: "(body)", message: "is not valid JSON" }],
    });
  }
}
