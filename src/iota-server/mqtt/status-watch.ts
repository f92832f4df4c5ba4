/**
 * `--mqtt-watch`: the service subscribes to `<prefix>/+/+/status` on an external broker (Mosquitto) as its
 * monitor identity and records what devices announce. The broker sends every retained message again on each
 * subscription, so a reconnection catches up by itself; only changes reach the database.
 */

import { randomBytes } from "node:crypto";
import { isIP } from "node:net";
import type { IClientOptions, MqttClient } from "mqtt";
import { type BackoffPolicy, retryDelay } from "../../core/renewal.ts";
import type { Logger } from "../log.ts";
import type { ReadinessChange } from "../store/fleet-store.ts";
import type { ServerCertificate } from "../tls/server-certificate.ts";
import { keepRenewed, type Renewal } from "../tls/renewal.ts";
import { readinessOf, statusTopic } from "./status-message.ts";
import { MONITOR_USER } from "./monitor-identity.ts";

/** Opens an MQTT connection (mqtt.js `connect` in production). */
export type MqttConnect = (url: string, options: IClientOptions) => MqttClient;

/** Reconnection after a lost or refused connection: 1 s doubling up to a minute, with jitter. */
export const WATCH_BACKOFF: BackoffPolicy = { minDelay: 1000, maxDelay: 60_000 };

/** What {@link startStatusWatch} needs. */
export interface StatusWatchOptions {
  /** `mqtts://HOST:PORT`. */
  url: string;
  host: string;
  /** The CA (PEM) the broker's certificate must chain to. */
  ca: string;
  tenant: string;
  topicPrefix: string;
  /** Issues a monitor certificate (renewed at 2/3 of its life; the connection then moves to the new one). */
  issue: () => Promise<ServerCertificate>;
  report: (change: ReadinessChange) => void;
  connect: MqttConnect;
  log: Logger;
  now: () => number;
  random?: () => number;
  backoff?: BackoffPolicy;
}

/** The connection's state; one value at a time. */
export type WatchState =
  | { kind: "connecting"; attempt: number }
  | { kind: "connected"; since: number }
  | { kind: "reconnecting"; attempt: number; retryAt: number }
  | { kind: "stopped" };

/** A running watch. */
export interface StatusWatch {
  state(): WatchState;
  stop(): Promise<void>;
}

/** Connects and keeps watching until stopped. */
export async function startStatusWatch(options: StatusWatchOptions): Promise<StatusWatch> {
  const { log, now } = options;
  const random = options.random ?? Math.random;
  const filter = `${options.topicPrefix}/+/+/status`;
  let identity = await options.issue();
  let state: WatchState = { kind: "connecting", attempt: 1 };
  let client: MqttClient | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const retry = (attempt: number, why: string) => {
    if (state.kind === "stopped") return;
    const delay = retryDelay(attempt, options.backoff ?? WATCH_BACKOFF, random);
    state = { kind: "reconnecting", attempt, retryAt: now() + delay };
    log.error(`mqtt watch: ${options.url}: ${why}; retrying in ${Math.round(delay / 1000)} s`);
    timer = setTimeout(() => open(attempt + 1), delay);
    timer.unref?.();
  };

  const open = (attempt: number) => {
    if (state.kind === "stopped") return;
    state = { kind: "connecting", attempt };
    const c = options.connect(options.url, {
      ca: options.ca,
      cert: identity.certPem,
      key: identity.keyPem,
      rejectUnauthorized: true,
      ...(isIP(options.host) ? {} : { servername: options.host }),
      clientId: `${MONITOR_USER}-${randomBytes(6).toString("hex")}`,
      clean: true,
      protocolVersion: 4,
      reconnectPeriod: 0,
      connectTimeout: 15_000,
    });
    client = c;
    let failed = false;
    const fail = (why: string) => {
      if (failed || client !== c) return;
      failed = true;
      c.end(true);
      retry(state.kind === "connected" ? 1 : attempt, why);
    };
    c.on("connect", () => {
      state = { kind: "connected", since: now() };
      log.info(`mqtt watch: connected to ${options.url} as ${MONITOR_USER}; reading ${filter}`);
      c.subscribe(filter, { qos: 1 }, (error, granted) => {
        if (error || granted?.some((g) => g.qos === 128))
          log.error(
            `mqtt watch: ${options.url} refused the subscription to ${filter}${error ? `: ${error.message}` : ""}; its ACL must let ${MONITOR_USER} read it (docs/mosquitto.md)`,
          );
      });
    });
    c.on("message", (topic, payload) => {
      const device = statusTopic(options.topicPrefix, topic);
      const online = device ? readinessOf(payload) : undefined;
      if (!device || online === undefined) return;
      options.report({ tenant: options.tenant, ...device, online, at: now() });
    });
    c.on("error", (error) => fail(error.message));
    c.on("close", () => fail("connection closed"));
  };

  // Hint: a renewed monitor certificate takes effect by reconnecting with it; retained messages catch up.
  const renewal: Renewal = keepRenewed(
    identity,
    options.issue,
    (next) => {
      identity = next;
      if (state.kind !== "connected") return;
      const old = client;
      client = undefined;
      old?.end(true);
      open(1);
    },
    log,
    "mqtt watch monitor",
    now,
  );
  open(1);
  return {
    state: () => state,
    async stop() {
      state = { kind: "stopped" };
      renewal.stop();
      if (timer) clearTimeout(timer);
      const c = client;
      client = undefined;
      await c?.endAsync(true).catch(() => {});
    },
  };
}
