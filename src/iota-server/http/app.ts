/** The iota-server HTTP app (hono): routes, limits, auth and the one error handler. */

import { Hono } from "hono";
import { uiRoutes } from "../ui/ui-routes.ts";
import type { DomainContext } from "../domain/context.ts";
import { CrlCache } from "../domain/crl.ts";
import type { IssueRate } from "../config.ts";
import { errorHandler, problemAnswer } from "./problem-response.ts";
import { RateLimiter, type BucketPolicy } from "./rate-limit.ts";
import type { Logger } from "../log.ts";
import { adminRoutes } from "./admin-routes.ts";
import { deviceRoutes } from "./device-routes.ts";
import { openApiDocument } from "./openapi.ts";
import { logAccess, type PeerSource } from "./access-log.ts";
import type { AppEnv } from "./env.ts";
import { issueRoutes, type IssueRoutes } from "./issue-routes.ts";
import { WorkQueue, type QueuePolicy } from "./work-queue.ts";
import { allowedMethods } from "./allowed-methods.ts";
import { knownQuery } from "./known-query.ts";
import { DEFAULT_OVERDUE_SLACK_SECONDS } from "../domain/fleet-status.ts";
import { ServiceMetrics } from "../metrics/service-metrics.ts";
import { DEFAULT_METRICS_GROUPS, fleetMetrics } from "../metrics/fleet-metrics.ts";
import { measuredIssueRoutes, routeLabel } from "./request-metrics.ts";
import { requireAdmin } from "./admin-auth.ts";
import { databaseAnswers, READY_DEADLINE_MS } from "./ready.ts";
import { DATABASE_RETRY_AFTER } from "../store/unavailable.ts";
import { DEFAULT_TENANT } from "../domain/tenants.ts";

/** Limits of the HTTP layer. */
export interface AppOptions {
  /** Provision and renew requests per source address; rate 0 lifts the limit. */
  issueRate: IssueRate;
  /** Wrong credentials or proofs tolerated per source (and group) before failures are answered 429. */
  failureRate: BucketPolicy;
  /** The bounded queue of issuing work (503 with Retry-After beyond it). */
  issueQueue: QueuePolicy;
  /** Largest body of a provision or renew request, read before any credential is checked. */
  maxIssueBody: number;
  /** Largest body of an admin request (read only once the admin token is checked). */
  maxAdminBody: number;
  /** Largest body of a bulk device creation (100,000 names). */
  maxBulkBody: number;
  /** Seconds an idle connection (or a stalled body) stays open. */
  idleTimeoutSeconds: number;
  /** Load balancers whose `X-Forwarded-For` names the client the limits count (none by default). */
  trustedProxies?: string[];
  /** The server CA `GET /v1/server-ca` answers (undefined: an operator certificate without its root). */
  serverCaPem?: string | undefined;
  /** How long after its planned renewal a device counts as overdue (fleet status, filters, metrics). */
  overdueSlackSeconds: number;
  /** Groups with their own series in `/metrics`; the others are summed under `group="_other"`. */
  metricsGroups: number;
}

/**
 * Bun's own body limit on the API listener, far above every route's. Hint: Bun answers a body over its limit
 * with a bare 413 and no log line, before any route runs; each route refuses its own bodies (body-limit.ts) as
 * problem+json, after the credential check, and Bun streams a body to the route rather than buffering it, so a
 * body the route refuses is not read past its limit.
 */
const LISTENER_BODY_CEILING = 2 ** 40;

/** Defaults sized for a factory line behind one address: 100 issues/s sustained, bursts of 2,000. */
export const DEFAULT_APP_OPTIONS: AppOptions = {
  issueRate: { rate: 100, burst: 2000 },
  failureRate: { rate: 1 / 6, burst: 10 },
  issueQueue: { concurrency: 64, depth: 2048, retryAfter: 1 },
  maxIssueBody: 20 * 1024,
  maxAdminBody: 64 * 1024,
  maxBulkBody: 8 * 1024 * 1024,
  idleTimeoutSeconds: 10,
  overdueSlackSeconds: DEFAULT_OVERDUE_SLACK_SECONDS,
  metricsGroups: DEFAULT_METRICS_GROUPS,
};

/** The content type of the Prometheus text format. */
const METRICS_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The HTTP layer: the hono app for every route, and the issuing routes for Bun.serve to dispatch itself. */
export interface HttpHandlers {
  app: Hono<AppEnv>;
  /** POST /v1/provision and /v1/renew; the app serves the same handlers, so both answer alike. */
  routes: IssueRoutes;
  /** What the listener lets through to the routes, which refuse what is over their own limits. */
  maxRequestBodySize: number;
  idleTimeoutSeconds: number;
  /** The issuing queue (its load and shed count). */
  queue: WorkQueue;
  /** Changes what `GET /v1/server-ca` answers (an operator certificate reloaded on SIGHUP). */
  setServerCaPem(pem: string | undefined): void;
  /** The process's counters (more sources may be added, e.g. the broker watch). */
  metrics: ServiceMetrics;
  /** What `GET /metrics` answers for `tenant` (the default tenant on the `--metrics-listen` listener). */
  metricsResponse(tenant?: string): Promise<Response>;
  /** The CRLs `GET /v1/crl` serves (refreshed in the background, for a database outage). */
  crls: CrlCache;
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
  const queue = new WorkQueue(options.issueQueue);
  const limits = {
    issue: options.issueRate.rate > 0 ? new RateLimiter(options.issueRate, ctx.now) : undefined,
    failures: new RateLimiter(options.failureRate, ctx.now),
    queue,
    maxBody: options.maxIssueBody,
  };
  const crls = new CrlCache();
  let serverCaPem = options.serverCaPem;
  const metrics = new ServiceMetrics();
  const routes = measuredIssueRoutes(
    issueRoutes(ctx, limits, log, new Set(options.trustedProxies ?? [])),
    metrics,
  );
  const metricsResponse = async (tenant: string = DEFAULT_TENANT) => {
    const fleet = await fleetMetrics(
      ctx,
      tenant,
      options.metricsGroups,
      options.overdueSlackSeconds,
    );
    return new Response(metrics.render() + fleet, {
      headers: { "content-type": METRICS_TYPE, "cache-control": "no-store" },
    });
  };

  app.onError(errorHandler(log));
  app.notFound((c) => {
    const allow = allowedMethods(app, c.req.path);
    if (allow.length === 0) return problemAnswer(404, `No route for ${c.req.method} ${c.req.path}`);
    return problemAnswer(
      405,
      `${c.req.path} does not take ${c.req.method}; it takes ${allow.join(", ")}`,
      {
        headers: { allow: allow.join(", ") },
      },
    );
  });
  // Hint: registered before the middleware, so these answer (limit, log and errors included) without it.
  for (const [path, { POST }] of Object.entries(routes))
    app.post(path, (c) => POST(c.req.raw, c.env as PeerSource | undefined, c.req.path));
  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    // Hint: no browser may read an answer as anything but its declared type (a JSON body as HTML, say).
    c.header("x-content-type-options", "nosniff");
    logAccess(log, c.req.method, c.req.path, c.res.status, started);
    metrics.observe(
      c.req.method,
      routeLabel(c),
      c.res.status,
      (performance.now() - started) / 1000,
    );
  });

  // Hint: only under /v1, the API's contract; probes, scrapers and browsers may add a parameter of their own
  // (a cache buster) to /healthz, /readyz, /metrics and the dashboard's files, which take none and ignore it.
  app.use("/v1/*", knownQuery());

  app.get("/healthz", (c) => c.json({ status: "ok" }));
  app.get("/readyz", async (c) =>
    (await databaseAnswers(ctx.store))
      ? c.json({ status: "ready" })
      : problemAnswer(
          503,
          `The database did not answer within ${READY_DEADLINE_MS / 1000} s; this replica cannot serve requests that need it`,
          { retryAfter: DATABASE_RETRY_AFTER },
        ),
  );
  app.get("/metrics", requireAdmin(ctx), async (c) => await metricsResponse(c.get("tenant")));
  app.get("/v1/openapi.json", (c) => c.json(openApiDocument()));
  app.get("/v1/server-ca", () =>
    serverCaPem === undefined
      ? problemAnswer(
          404,
          "This server serves an operator certificate whose chain does not end in a root; ask its operator for the CA (iotactl configure --ca-file)",
        )
      : new Response(serverCaPem, { headers: { "content-type": "application/x-pem-file" } }),
  );
  app.route("/", uiRoutes());
  app.route("/v1", deviceRoutes(ctx, crls));
  app.route(
    "/v1",
    adminRoutes(ctx, {
      maxBody: options.maxAdminBody,
      maxBulkBody: options.maxBulkBody,
      overdueSlackSeconds: options.overdueSlackSeconds,
    }),
  );
  return {
    app,
    routes,
    maxRequestBodySize: LISTENER_BODY_CEILING,
    idleTimeoutSeconds: options.idleTimeoutSeconds,
    queue,
    setServerCaPem(pem) {
      serverCaPem = pem;
    },
    metrics,
    metricsResponse,
    crls,
  };
}
