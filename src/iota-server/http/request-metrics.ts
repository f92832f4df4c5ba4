/** Request metrics at the HTTP edge: the route pattern of a request, and the issuing routes timed and counted. */

import type { Context } from "hono";
import { matchedRoutes } from "hono/route";
import type { ServiceMetrics } from "../metrics/service-metrics.ts";
import type { IssueHandler, IssueRoutes } from "./issue-routes.ts";

/** The label of requests no route serves, so unknown paths never become label values. */
export const UNMATCHED_ROUTE = "unmatched";

/**
 * The pattern of the route that answered (`/v1/groups/{group}/devices`), from hono's match; middleware
 * (method ALL) is skipped, and a request no handler matched is {@link UNMATCHED_ROUTE}.
 */
export function routeLabel(c: Context): string {
  const handler = matchedRoutes(c)
    .filter((route) => route.method !== "ALL")
    .pop();
  return handler ? handler.path.replace(/:(\w+)/g, "{$1}") : UNMATCHED_ROUTE;
}

/**
 * The issuing routes, each answer timed and a new certificate (201) counted by kind. Hint: these routes skip
 * hono's middleware when Bun.serve dispatches them, so they are measured here instead.
 */
export function measuredIssueRoutes(routes: IssueRoutes, metrics: ServiceMetrics): IssueRoutes {
  const measure = (route: keyof IssueRoutes, kind: string): { POST: IssueHandler } => {
    const handler = routes[route].POST;
    return {
      POST: async (req, server, path) => {
        const started = performance.now();
        const res = await handler(req, server, path);
        metrics.observe("POST", route, res.status, (performance.now() - started) / 1000);
        if (res.status === 201) metrics.issued.inc({ kind });
        return res;
      },
    };
  };
  return {
    "/v1/provision": measure("/v1/provision", "provision"),
    "/v1/renew": measure("/v1/renew", "renew"),
  };
}
