/**
 * The fleet's background parts of a running server: the readiness recorder the brokers report to, the watch of
 * an external broker (`--mqtt-watch`), the token-less metrics listener (`--metrics-listen`) and the hourly
 * pruning of past forecast counters.
 */

import { readFileSync } from "node:fs";
import mqtt from "mqtt";
import { DEFAULT_TOPIC_PREFIX } from "../core/agent-config.ts";
import type { ServerConfig } from "./config.ts";
import type { DomainContext } from "./domain/context.ts";
import { ReadinessRecorder } from "./domain/readiness.ts";
import { DEFAULT_TENANT } from "./domain/tenants.ts";
import { cannotStart } from "./exit.ts";
import { listenProblem } from "./http/listener.ts";
import type { HttpHandlers } from "./http/app.ts";
import type { Logger } from "./log.ts";
import { gauge } from "./metrics/prometheus.ts";
import { issueMonitorCertificate } from "./mqtt/monitor-identity.ts";
import { startStatusWatch, type StatusWatch } from "./mqtt/status-watch.ts";
import { hourOf } from "./store/tally-sql.ts";

/** How often forecast counters of past hours are dropped. */
const PRUNE_EVERY_MS = 3_600_000;

/** The started fleet parts. */
export interface FleetServices {
  recorder: ReadinessRecorder;
  watch: StatusWatch | undefined;
  /** `http://HOST:PORT/metrics` of the token-less listener, when asked for. */
  metricsUrl: string | undefined;
  stop(): Promise<void>;
}

/** Serves `GET /metrics` (and nothing else) without a token. */
function startMetricsListener(
  listen: { host: string; port: number },
  http: HttpHandlers,
): { url: string; stop: () => Promise<void> } {
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = Bun.serve({
      hostname: listen.host,
      port: listen.port,
      idleTimeout: 10,
      maxRequestBodySize: 1024,
      fetch: async (req) => {
        const path = new URL(req.url).pathname;
        if (path !== "/metrics")
          return new Response("only /metrics is served here\n", { status: 404 });
        if (req.method !== "GET" && req.method !== "HEAD")
          return new Response("GET /metrics\n", { status: 405, headers: { allow: "GET, HEAD" } });
        return await http.metricsResponse(DEFAULT_TENANT);
      },
    });
  } catch (error) {
    throw cannotStart(
      `cannot listen on ${listen.host}:${listen.port} (--metrics-listen): ${listenProblem(error)}`,
    );
  }
  const host = listen.host.includes(":") ? `[${listen.host}]` : listen.host;
  return { url: `http://${host}:${server.port}/metrics`, stop: () => server.stop(true) };
}

/** Starts what `options` asks for; the recorder always (the embedded broker reports to it). */
export async function startFleetServices(
  options: ServerConfig,
  ctx: DomainContext,
  http: HttpHandlers,
  serverCaPem: string,
  log: Logger,
): Promise<FleetServices> {
  const recorder = new ReadinessRecorder(ctx.store, log);
  let watch: StatusWatch | undefined;
  if (options.mqttWatch) {
    const { url, host, caFile } = options.mqttWatch;
    let ca = serverCaPem;
    if (caFile) {
      try {
        ca = readFileSync(caFile, "utf8");
      } catch (error) {
        throw cannotStart(`cannot read --mqtt-watch-ca ${caFile}: ${(error as Error).message}`);
      }
      if (!ca.includes("-----BEGIN CERTIFICATE-----"))
        throw cannotStart(`--mqtt-watch-ca ${caFile} holds no PEM certificate`);
    }
    const tenantCa = await ctx.tenants.ca(DEFAULT_TENANT);
    watch = await startStatusWatch({
      url,
      host,
      ca,
      tenant: DEFAULT_TENANT,
      topicPrefix: DEFAULT_TOPIC_PREFIX,
      issue: () => issueMonitorCertificate(tenantCa, DEFAULT_TENANT, ctx.now()),
      report: (change) => recorder.report(change),
      connect: mqtt.connect,
      log,
      now: ctx.now,
    });
    const running = watch;
    http.metrics.addSource(() =>
      gauge(
        "iota_mqtt_watch_connected",
        "1 while the --mqtt-watch connection to the external broker is up, else 0.",
        ["broker"],
        [{ labels: { broker: url }, value: running.state().kind === "connected" ? 1 : 0 }],
      ),
    );
  }
  const metrics = options.metricsListen && startMetricsListener(options.metricsListen, http);
  const prune = setInterval(() => {
    ctx.store
      .pruneForecast(hourOf(ctx.now()) - 24)
      .catch((error: Error) => log.error(`pruning forecast counters failed: ${error.message}`));
  }, PRUNE_EVERY_MS);
  prune.unref?.();
  return {
    recorder,
    watch,
    metricsUrl: metrics ? metrics.url : undefined,
    async stop() {
      clearInterval(prune);
      await watch?.stop();
      if (metrics) await metrics.stop();
      await recorder.stop();
    },
  };
}
