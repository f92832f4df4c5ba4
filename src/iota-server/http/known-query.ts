/**
 * The query parameters each call under /v1 reads; any other is a 400 naming it, so a misspelt filter
 * (`?State=revoked`) is refused instead of listing everything.
 */

import type { MiddlewareHandler } from "hono";
import { matchedRoutes } from "hono/route";
import { IotaError } from "../../core/errors.ts";
import type { FieldError } from "../../core/problem.ts";

/** `?limit` and `?cursor` of a paged listing. */
export const PAGE_PARAMS = ["limit", "cursor"] as const;

/** The parameters of `GET /v1/groups/{group}/devices`: its page and its filters (fleet-query.ts reads them). */
export const DEVICE_LIST_PARAMS = [
  ...PAGE_PARAMS,
  "state",
  "online",
  "overdue",
  "expiringBefore",
  "q",
] as const;

/**
 * The query parameters of every call under /v1 that takes any, by method and hono route pattern; a call not
 * named here takes none. The OpenAPI document declares the same (test/openapi.test.ts compares them).
 */
export const QUERY_PARAMS: Readonly<Record<string, readonly string[]>> = {
  "GET /v1/groups/:group/devices": DEVICE_LIST_PARAMS,
  "GET /v1/status": PAGE_PARAMS,
  "DELETE /v1/groups/:group": ["force"],
  "GET /v1/ca": ["tenant"],
  "GET /v1/crl": ["tenant"],
};

/**
 * Refuses (400, naming each) the query parameters of `url` that are not `known`. Hint: a URL without `?` is
 * answered by one string search, so the issuing routes, which take no query, pay nothing more for the check.
 */
export function refuseUnknownQuery(url: string, known: readonly string[]): void {
  if (!url.includes("?")) return;
  const unknown = new Set<string>();
  for (const name of new URL(url).searchParams.keys()) if (!known.includes(name)) unknown.add(name);
  if (unknown.size === 0) return;
  const message =
    known.length === 0
      ? "is not a known query parameter (this call takes none)"
      : `is not a known query parameter (check the spelling; this call takes ${known.join(", ")})`;
  const errors: FieldError[] = [...unknown].map((field) => ({ field, message }));
  throw new IotaError("invalid", errors.map((e) => `${e.field} ${e.message}`).join("; "), {
    errors,
  });
}

/**
 * Middleware for /v1: refuses a query parameter the matched call does not read (see {@link QUERY_PARAMS}). A
 * path no call serves is left to the 404 or 405.
 */
export function knownQuery(): MiddlewareHandler {
  return async (c, next) => {
    const url = c.req.url;
    if (url.includes("?")) {
      const route = matchedRoutes(c)
        .filter((r) => r.method !== "ALL")
        .pop();
      if (route) refuseUnknownQuery(url, QUERY_PARAMS[`${route.method} ${route.path}`] ?? []);
    }
    await next();
  };
}
