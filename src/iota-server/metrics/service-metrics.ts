/** The service's own metrics, counted as requests pass: certificates issued, request durations, failures. */

import { VERSION } from "../../core/version.ts";
import { Counter, gauge, Histogram } from "./prometheus.ts";

/** Request duration buckets in seconds: from a cached read to a slow bulk creation. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** Why a request failed, by its status: the kinds of problem+json answers the service gives. */
const REASONS: Record<number, string> = {
  400: "invalid",
  401: "unauthorized",
  403: "forbidden",
  404: "not-found",
  405: "method-not-allowed",
  408: "timeout",
  409: "conflict",
  413: "too-large",
  415: "unsupported-media-type",
  429: "rate-limited",
  500: "internal",
  503: "unavailable",
};

/** The failure reason of an HTTP status, from a fixed set (so the label stays bounded). */
export function failureReason(status: number): string {
  return REASONS[status] ?? (status >= 500 ? "other-5xx" : "other-4xx");
}

/** A source of more metric families, rendered at every scrape (e.g. a broker's connection state). */
export type MetricsSource = () => string;

/** The counters of one service process (they start at 0 with the process, as Prometheus expects). */
export class ServiceMetrics {
  readonly issued = new Counter(
    "iota_certificates_issued_total",
    "Device certificates issued by this process, by kind: provision (first certificate) or renew.",
    ["kind"],
  );
  readonly requests = new Histogram(
    "iota_http_request_duration_seconds",
    "HTTP requests by method, route pattern (unmatched for paths no route serves) and status class.",
    DURATION_BUCKETS,
    ["method", "route", "status"],
  );
  readonly failures = new Counter(
    "iota_request_failures_total",
    "HTTP requests answered with an error, by route pattern and reason (the kind of problem+json answer).",
    ["route", "reason"],
  );
  private readonly sources: MetricsSource[] = [];

  constructor() {
    this.issued.inc({ kind: "provision" }, 0);
    this.issued.inc({ kind: "renew" }, 0);
  }

  /** Counts one answered request of `route` (a pattern such as `/v1/groups/{group}`). */
  observe(method: string, route: string, status: number, seconds: number): void {
    this.requests.observe({ method, route, status: `${Math.floor(status / 100)}xx` }, seconds);
    if (status >= 400) this.failures.inc({ route, reason: failureReason(status) });
  }

  /** Adds metric families rendered at every scrape. */
  addSource(source: MetricsSource): void {
    this.sources.push(source);
  }

  /** The process's metric families in the text format. */
  render(): string {
    return [
      gauge(
        "iota_build_info",
        "The running iota-server's version (always 1).",
        ["version"],
        [{ labels: { version: VERSION }, value: 1 }],
      ),
      this.issued.render(),
      this.requests.render(),
      this.failures.render(),
      ...this.sources.map((source) => source()),
    ].join("");
  }
}
