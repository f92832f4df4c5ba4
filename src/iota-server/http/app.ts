/** The iota-server HTTP app (hono): routes, limits, auth and the one error handler. */

import { Hono, type Context } from "hono";
import { bodyLimit } from "hono/body-limit";
import { IotaError } from "../../core/problem.ts";
import type { ServiceContext } from "../service/context.ts";
import { CrlCache } from "../service/crl.ts";
import { errorHandler, problemResponse } from "./problem-response.ts";
import { RateLimiter, type BucketPolicy } from "./rate-limit.ts";
import type { Logger } from "./logger.ts";
import { adminRoutes } from "./admin-routes.ts";
import { deviceRoutes } from "./device-routes.ts";
import { openApiDocument } from "./openapi.ts";

/** Variables the middleware hands to the routes. */
export interface AppEnv {
  Variables: { tenant: string; source: string };
}

/** Limits of the HTTP layer. */
export interface AppOptions {
  /** Provision and renew requests per source address. */
  issueRate: BucketPolicy;
  /** Wrong credentials tolerated per source and group before answering 429. */
  failureRate: BucketPolicy;
  /** Largest request body in bytes (bulk device creation is allowed 32 times more). */
  maxBody: number;
}

/** Defaults sized for a factory line behind one address: 100 issues/s sustained, bursts of 2,000. */
export const DEFAULT_APP_OPTIONS: AppOptions = {
  issueRate: { rate: 100, burst: 2000 },
  failureRate: { rate: 1 / 6, burst: 10 },
  maxBody: 64 * 1024,
};

/** The source address of a request: the socket peer under Bun.serve, `local` in-process. */
function sourceOf(c: Context): string {
  const server = c.env as { requestIP?: (req: Request) => { address: string } | null } | undefined;
  return server?.requestIP?.(c.req.raw)?.address ?? "local";
}

/** Builds the app over a service context. */
export function createApp(ctx: ServiceContext, log: Logger, options: AppOptions = DEFAULT_APP_OPTIONS): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const limits = {
    issue: new RateLimiter(options.issueRate, ctx.now),
    failures: new RateLimiter(options.failureRate, ctx.now),
  };
  const crls = new CrlCache();

  app.onError(errorHandler(log));
  app.notFound((c) => problemResponse(new IotaError(404, `No route for ${c.req.method} ${c.req.path}`)));
  app.use("*", async (c, next) => {
    const started = performance.now();
    c.set("source", sourceOf(c));
    await next();
    // Hint: only method, path and status are logged; paths hold names, never secrets.
    log.info(`${c.req.method} ${c.req.path} ${c.res.status} ${(performance.now() - started).toFixed(1)}ms`);
  });
  const tooLarge = (max: number) => () => {
    throw new IotaError(413, `The request body is larger than ${max} bytes`);
  };
  app.use("/v1/groups/:group/devices", bodyLimit({ maxSize: options.maxBody * 32, onError: tooLarge(options.maxBody * 32) }));
  app.use("*", async (c, next) => {
    if (c.req.path.endsWith("/devices")) return await next();
    return await bodyLimit({ maxSize: options.maxBody, onError: tooLarge(options.maxBody) })(c, next);
  });

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/v1/openapi.json", (c) => c.json(openApiDocument()));
  app.route("/v1", deviceRoutes(ctx, limits, crls));
  app.route("/v1", adminRoutes(ctx));
  return app;
}
