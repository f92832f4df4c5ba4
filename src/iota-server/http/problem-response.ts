/** The one place errors become HTTP answers: RFC 9457 problem details, never a stack trace. */

import type { Context } from "hono";
import { type ErrorKind, IotaError, invalidField, isIotaError } from "../../core/errors.ts";
import { firstDuplicateKey } from "../../core/json-duplicates.ts";
import type { Problem } from "../../core/problem.ts";
import { logText, type Logger } from "../log.ts";
import { BODY_DEADLINE_MS, beforeDeadline } from "./body-limit.ts";
import { DATABASE_NO_ANSWER } from "../store/answer-watch.ts";
import { DATABASE_RETRY_AFTER, databaseUnavailable } from "../store/unavailable.ts";
import { STORAGE_FAILED } from "../store/storage-failure.ts";

/** The HTTP status of each kind of domain failure: the only place the two meet. */
export const STATUS_OF: Record<ErrorKind, number> = {
  invalid: 400,
  unauthorized: 401,
  forbidden: 403,
  "not-found": 404,
  conflict: 409,
  "too-large": 413,
  timeout: 408,
  "unsupported-media-type": 415,
  "rate-limited": 429,
  unavailable: 503,
};

/** Titles for the statuses IoTA answers. */
const TITLES: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  409: "Conflict",
  413: "Content Too Large",
  415: "Unsupported Media Type",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

/** A problem+json response with `status`; `headers` are added (e.g. `allow`). */
export function problemAnswer(
  status: number,
  detail: string,
  extra: { errors?: Problem["errors"]; retryAfter?: number; headers?: Record<string, string> } = {},
): Response {
  const problem: Problem = {
    type: "about:blank",
    status,
    title: TITLES[status] ?? "Error",
    detail,
  };
  if (extra.errors) problem.errors = extra.errors;
  const headers: Record<string, string> = {
    "content-type": "application/problem+json",
    "cache-control": "no-store",
    "x-content-type-options": "nosniff",
    ...extra.headers,
  };
  if (extra.retryAfter !== undefined) headers["retry-after"] = String(extra.retryAfter);
  // Hint: RFC 9110 requires a challenge on every 401; IoTA's admin calls take a Bearer token.
  if (status === 401) headers["www-authenticate"] = 'Bearer realm="iota"';
  return new Response(JSON.stringify(problem), { status, headers });
}

/** The problem+json answer for a domain failure. */
export function problemResponse(error: IotaError): Response {
  const extra: Parameters<typeof problemAnswer>[2] = {};
  if (error.errors) extra.errors = error.errors;
  if (error.retryAfter !== undefined) extra.retryAfter = error.retryAfter;
  return problemAnswer(STATUS_OF[error.kind], error.message, extra);
}

/** What an unavailable database's code means, for the log: the operator's next step starts from it. */
function unavailableCause(code: string, error: Error): string {
  if (code === DATABASE_NO_ANSWER)
    return `${error.message} (${code}): is it cut off by the network? A write then under way was rolled back, unless its commit had already gone out`;
  if (code === "SQLITE_FULL")
    return `the database's disk is full (${code}); nothing was written, and writes succeed again once space is freed`;
  if (code.startsWith("SQLITE_READONLY"))
    return `the database cannot be written (${code}): its file or its file system is read-only`;
  if (code === STORAGE_FAILED)
    return `the database may not hold what it would answer (${code}; the first error logged says why): restart iota-server once that is fixed`;
  return `the database is unavailable (${code})`;
}

/**
 * The answer for an error thrown by `method path`: expected errors as they are, an unavailable database as a 503
 * a client retries, anything else as a logged 500 without details.
 */
export function errorResponse(log: Logger, error: Error, method: string, path: string): Response {
  if (isIotaError(error)) return problemResponse(error);
  const status = (error as { status?: unknown }).status;
  if (typeof status === "number" && status >= 400 && status < 500)
    return problemAnswer(status, error.message);
  const unavailable = databaseUnavailable(error);
  if (unavailable !== undefined) {
    log.error(
      `${logText(method)} ${logText(path)} failed: ${unavailableCause(unavailable, error)}`,
    );
    const detail =
      unavailable === DATABASE_NO_ANSWER
        ? "The database did not answer in time; retry later"
        : "The database is unavailable; retry later";
    return problemAnswer(503, detail, {
      retryAfter: DATABASE_RETRY_AFTER,
    });
  }
  log.error(`${logText(method)} ${logText(path)} failed: ${error.stack ?? error.message}`);
  return problemAnswer(500, "The service failed to handle this request; it has been logged");
}

/** The hono app's error handler: {@link errorResponse}. */
export function errorHandler(log: Logger) {
  return (error: Error, c: Context): Response =>
    errorResponse(log, error, c.req.method, c.req.path);
}

const JSON_TYPE = /^application\/(?:[\w.+-]+\+)?json\b/i;

/** The 415 for a body that is not declared JSON. */
function notJson(): IotaError {
  return new IotaError(
    "unsupported-media-type",
    "The request body must be JSON (Content-Type: application/json)",
  );
}

/** What a JSON value is, for a message that does not quote it (a string may be a secret). */
function jsonKind(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}

/**
 * The JSON object `text` holds: `invalid` when it does not parse, is not an object (every body of the API is
 * one; an array would otherwise reach the schema as an object without fields) or names a field twice (an
 * ambiguous body). Hint: the parser's message quotes the body, which may hold a secret, so it is never passed on.
 */
function parseJsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new IotaError("invalid", "The request body is not valid JSON", {
      errors: [{ field: "(body)", message: "is not valid JSON" }],
    });
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    const message = `must be a JSON object, got ${jsonKind(value)}`;
    throw new IotaError("invalid", `The request body ${message}`, {
      errors: [{ field: "(body)", message }],
    });
  }
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== undefined)
    throw invalidField(duplicate, "is given more than once; give each field once");
  return value as Record<string, unknown>;
}

/** The body's text, read within {@link BODY_DEADLINE_MS}. */
function bodyText(req: Request): Promise<string> {
  return beforeDeadline(req.text(), Date.now() + BODY_DEADLINE_MS);
}

/**
 * Reads a JSON object body: `unsupported-media-type` when it is not JSON, `invalid` when it does not parse, is
 * not an object, did not arrive whole, or names a field twice.
 */
export async function readJson(req: Request): Promise<Record<string, unknown>> {
  if (!JSON_TYPE.test(req.headers.get("content-type") ?? "")) throw notJson();
  return parseJsonObject(await bodyText(req));
}

/**
 * Reads an optional JSON object body as {@link readJson} does; undefined when there is none (no body, or an
 * empty one, whatever its type). Hint: a client sending nothing may still declare a type (or none), so only a
 * body that holds something must be JSON.
 */
export async function readOptionalJson(req: Request): Promise<Record<string, unknown> | undefined> {
  if (!req.body || req.headers.get("content-length") === "0") return undefined;
  const text = await bodyText(req);
  if (text === "") return undefined;
  if (!JSON_TYPE.test(req.headers.get("content-type") ?? "")) throw notJson();
  return parseJsonObject(text);
}
