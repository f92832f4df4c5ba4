/** The iota-server HTTP app (hono): routes, limits, auth and the one error handler. */

import { Hono } from "hono";
import { IotaError } from "../../core/errors.ts";
import type { DomainContext } from "../domain/context.ts";
import { CrlCache } from "../domain/crl.ts";
import { errorHandler, problemResponse } from "./problem-response.ts";
import { RateLimiter, type BucketPolicy } from "./rate-limit.ts";
import type { Logger } from "../log.ts";
import { adminRoutes } from "./admin-routes.ts";
import { deviceRoutes } from "./device-routes.ts";
import { openApiDocument } from "./openapi.ts";
import { bodyLimit } from "./body-limit.ts";
import { logAccess, type PeerSource } from "./access-log.ts";
import type { AppEnv } from "./env.ts";
import { issueRoutes, type IssueRoutes } from "./issue-routes.ts";

/** Limits of the HTTP layer. */
export interface AppOptions {
  /** Provision and renew requests per source address. */
  issueRate: BucketPolicy;
  /** Wrong credentials tolerated per source and group before answering 429. */
  failureRate: BucketPolicy;
  /** Largest request body in bytes (bulk device creation is allowed 32 times more). */
  maxBody: number;
  /** Load balancers whose `X-Forwarded-For` names the client the limits count (none by default). */
  trustedProxies?: string[];
}

/** Defaults sized for a factory line behind one address: 100 issues/s sustained, bursts of 2,000. */
export const DEFAULT_APP_OPTIONS: AppOptions = {
  issueRate: { rate: 100, burst: 2000 },
  failureRate: { rate: 1 / 6, burst: 10 },
  maxBody: 64 * 1024,
};

/** The HTTP layer: the hono app for every route, and the issuing routes for Bun.serve to dispatch itself. */
export interface HttpHandlers {
  app: Hono<AppEnv>;
  /** POST /v1/provision and /v1/renew; the app serves the same handlers, so both answer alike. */
  routes: IssueRoutes;
}

/** Builds the app over a service context. */
export function createApp(
  ctx: DomainContext,
  log: Logger,
  options: AppOptions = DEFAULT_APP_OPTIONS,
): Hono<AppEnv> {
  return createHttp(ctx, log, options).app;
}

/** Builds the app and the issuing routes over one service context, sharing their limits. */
export function createHttp(
  ctx: DomainContext,
  log: Logger,
  options: AppOptions = DEFAULT_APP_OPTIONS,
): HttpHandlers {
  const app = new Hono<AppEnv>();
  const limits = {
    issue: new RateLimiter(options.issueRate, ctx.now),
    failures: new RateLimiter(options.failureRate, ctx.now),
  };
  const crls = new CrlCache();
  const routes = issueRoutes(
    ctx,
    limits,
    log,
    options.maxBody,
    new Set(options.trustedProxies ?? []),
  );

  app.onError(errorHandler(log));
  app.notFound((c) =>
    problemResponse(new IotaError("not-found", `No route for ${c.req.method} ${c.req.path}`)),
  );
  // Hint: registered before the middleware, so these answer (limit, log and errors included) without it.
  for (const [path, { POST }] of Object.entries(routes))
    app.post(path, (c) => POST(c.req.raw, c.env as PeerSource | undefined, c.req.path));
  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    logAccess(log, c.req.method, c.req.path, c.res.status, started);
  });
  const bulkLimit = bodyLimit(options.maxBody * 32);
  const limit = bodyLimit(options.maxBody);
  app.use("/v1/groups/:group/devices", bulkLimit);
  app.use("*", async (c, next) => {
    if (c.req.path.endsWith("/devices")) return await next();
    return await limit(c, next);
  });

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/v1/openapi.json", (c) => c.json(openApiDocument()));
  app.route("/v1", deviceRoutes(ctx, crls));
  app.route("/v1", adminRoutes(ctx));
  return { app, routes };
}
