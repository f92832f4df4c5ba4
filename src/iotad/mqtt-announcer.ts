/**
 * MQTT readiness: connects with the device's own certificate (mutual TLS), publishes a retained
 * `ready` message with a retained `offline` last will, reconnects with backoff when the broker goes
 * away, and reconnects with the new certificate after each renewal.
 */

import type { IClientOptions, MqttClient } from "mqtt";
import { type BackoffPolicy, retryDelay } from "../core/renewal.ts";
import type { Clock } from "./clock.ts";
import type { Identity } from "./identity.ts";
import type { Logger } from "./logger.ts";
import { isClockError } from "./clock-tolerant-tls.ts";

/** The connection's state; one value at a time. */
export type MqttState =
  | { kind: "disabled" }
  /** Enabled, but there is no certificate to connect with yet. */
  | { kind: "waiting" }
  | { kind: "connecting"; attempt: number }
  | { kind: "connected"; since: number }
  /** Lost or failed; the next try is planned at `retryAt`. */
  | { kind: "reconnecting"; attempt: number; retryAt: number }
  | { kind: "closed" };

/** The `mqtt` part of `GET /status`. */
export interface MqttStatus {
  state: MqttState["kind"];
  url?: string;
  topic?: string;
  connectedSince?: string;
  lastError: string | null;
}

/** What the broker said about a certificate: it accepted the connection, or refused it as not authorized. */
export interface BrokerVerdict {
  verdict: "accepted" | "refused";
  serial: string;
}

/**
 * CONNACK codes that refuse the client itself (its certificate, as IoTA brokers authenticate by it):
 * MQTT 3.1.1 return codes 4 (bad user name or password) and 5 (not authorized), MQTT 5 reason codes
 * 0x86 and 0x87 (the same). Unavailable, busy or identifier-rejected are not about the certificate.
 */
export const REFUSAL_CODES: ReadonlySet<number> = new Set([4, 5, 0x86, 0x87]);

/**
 * True when `error` (as mqtt.js emits it) is the broker refusing the client's credentials: a CONNACK of
 * {@link REFUSAL_CODES}, or the TLS alert `certificate_revoked` a broker checking a CRL sends (Mosquitto
 * with `crlfile`; only a peer sends that alert, the client checks no CRL of its own).
 */
export function isCredentialRefusal(error: Error): boolean {
  const code = (error as Error & { code?: unknown }).code;
  if (typeof code === "number") return REFUSAL_CODES.has(code);
  return /CERTIFICATE_REVOKED/i.test(`${String(code)} ${error.message}`);
}

/**
 * Opens an MQTT connection (mqtt.js `connect` in production). With `ignoreClock`, an `mqtts://` broker's
 * certificate is checked against `options.ca` without its validity window (mqtt-clock-tolerant.ts).
 */
export type MqttConnect = (
  url: string,
  options: IClientOptions,
  ignoreClock?: boolean,
) => MqttClient;

/** What the announcer is given. */
export interface AnnouncerDeps {
  url: string;
  /** The broker's server CA (PEM); the system's roots when absent. */
  ca?: string;
  topicPrefix: string;
  group: string;
  device: string;
  version: string;
  connect: MqttConnect;
  clock: Clock;
  /** True while the agent asks the service for a new certificate (a session ending then is expected). */
  renewing?: () => boolean;
  random: () => number;
  log: Logger;
  /** Reconnection backoff; defaults to 1 s doubling up to 1 min. */
  backoff?: BackoffPolicy;
  /** Told when the broker accepts or refuses (CONNACK, see {@link REFUSAL_CODES}) a certificate. */
  onVerdict?: (verdict: BrokerVerdict) => void;
}

const OFFLINE = JSON.stringify({ state: "offline" });
/** How long a stopping agent waits for the broker, to announce offline and then to disconnect. */
const STOP_WAIT_MS = 5_000;

/** Keeps one announced MQTT connection for the identity in use. */
export class MqttAnnouncer {
  private state: MqttState = { kind: "waiting" };
  private client: MqttClient | undefined;
  private identity: Identity | undefined;
  private retryHandle: unknown;
  private lastError: string | null = null;
  /** The last attempt failed only because the local clock disagrees with the broker's certificate. */
  private clockOff = false;

  /**
   * Whether a broker certificate refused for the local clock alone may be checked again without its dates: only
   * with a pinned CA, and only over `mqtts:` (the one transport mqtt-clock-tolerant.ts opens).
   */
  private get clockTolerant(): boolean {
    return this.deps.ca !== undefined && this.deps.url.startsWith("mqtts:");
  }
  /** The status topic: `<prefix>/<group>/<device>/status`. */
  readonly topic: string;

  constructor(private readonly deps: AnnouncerDeps) {
    this.topic = `${deps.topicPrefix}/${deps.group}/${deps.device}/status`;
  }

  /** Connects (or reconnects) with `identity`, announcing it once connected. */
  use(identity: Identity): void {
    if (this.state.kind === "closed") return;
    this.identity = identity;
    this.dropClient();
    this.open(1);
  }

  /** Publishes the retained `offline` message (when connected) and disconnects, for good. */
  async stop(): Promise<void> {
    await this.leave({ kind: "closed" });
  }

  /**
   * The service refused the certificate in use for good (revoked, expired past the renew grace): announces
   * `offline` and leaves the broker until {@link use} brings a new certificate. Hint: a broker that checks its
   * CRL only at the handshake (Mosquitto) would otherwise keep the revoked session, and its retained `ready`,
   * for as long as the connection lasts.
   */
  async withdraw(serial: string): Promise<void> {
    if (this.state.kind === "closed" || this.identity?.serial !== serial) return;
    this.identity = undefined;
    this.lastError = null;
    await this.leave({ kind: "waiting" }, `the service refused certificate ${serial}; `);
  }

  /** Publishes the retained `offline` message (when connected), disconnects and enters `next`. */
  private async leave(next: MqttState, why = ""): Promise<void> {
    const client = this.client;
    const wasConnected = this.state.kind === "connected";
    this.state = next;
    this.cancelRetry();
    this.client = undefined;
    if (!client) return;
    // Hint: mqtt.js may have seen the connection close before this agent's handler ran.
    if (!wasConnected || !client.connected) {
      client.end(true);
      return;
    }
    const problem = await this.bounded(client, STOP_WAIT_MS, (done) =>
      client.publish(this.topic, OFFLINE, { qos: 1, retain: true }, (error) => done(error)),
    );
    if (problem !== undefined) {
      client.end(true);
      this.deps.log.warn(`mqtt: ${why}could not announce offline on ${this.topic}: ${problem}`);
      return;
    }
    await this.bounded(client, STOP_WAIT_MS, (done) => client.end(false, {}, () => done()));
    this.deps.log.info(`mqtt: ${why}announced offline on ${this.topic}`);
  }

  /** The status part (no key, no certificate). */
  status(): MqttStatus {
    const status: MqttStatus = {
      state: this.state.kind,
      url: redactUrl(this.deps.url),
      topic: this.topic,
      lastError: this.lastError,
    };
    if (this.state.kind === "connected")
      status.connectedSince = new Date(this.state.since).toISOString();
    return status;
  }

  private open(attempt: number): void {
    const identity = this.identity;
    if (!identity || this.state.kind === "closed") return;
    this.state = { kind: "connecting", attempt };
    const options: IClientOptions = {
      clientId: `${this.deps.group}/${this.deps.device}`,
      clean: true,
      protocolVersion: 4,
      keepalive: 60,
      connectTimeout: 30_000,
      // Hint: mqtt.js would retry at a fixed period; reconnection is done here, with backoff and the newest certificate.
      reconnectPeriod: 0,
      // Hint: otherwise mqtt-packet keeps 65,536 two-byte Buffers for writing packet ids (~4 MB of
      // the idle agent's memory) to speed up brokers that write millions of packets.
      writeCache: false,
      key: identity.keyPem,
      cert: identity.certPem,
      rejectUnauthorized: true,
      will: { topic: this.topic, payload: Buffer.from(OFFLINE), qos: 1, retain: true },
    };
    if (this.deps.ca !== undefined) options.ca = this.deps.ca;
    // Hint: as for the service, only with a pinned CA, and only after a fully checked attempt failed for time.
    const ignoreClock = this.clockOff && this.clockTolerant;
    this.clockOff = false;
    const client = this.deps.connect(this.deps.url, options, ignoreClock);
    this.client = client;
    client.on("connect", () => {
      if (client !== this.client) return;
      // Hint: an error of an earlier connection (a refused certificate, the broker away) is over once one is accepted.
      this.lastError = null;
      this.deps.onVerdict?.({ verdict: "accepted", serial: identity.serial });
      const ready = {
        state: "ready",
        device: this.deps.device,
        group: this.deps.group,
        serial: identity.serial,
        notAfter: new Date(identity.notAfter).toISOString(),
        version: this.deps.version,
      };
      client.publish(this.topic, JSON.stringify(ready), { qos: 1, retain: true }, (error) => {
        if (client !== this.client) return;
        if (error) return this.noteError(`publishing readiness failed: ${error.message}`);
        this.state = { kind: "connected", since: this.deps.clock.now() };
        this.deps.log.info(
          `mqtt: connected to ${redactUrl(this.deps.url)}, announced ready on ${this.topic} (certificate ${identity.serial})`,
        );
      });
    });
    client.on("error", (error) => {
      if (client !== this.client) return;
      if (isClockError(error) && this.clockTolerant) {
        this.clockOff = true;
        return this.noteError(
          `${error.message} by this device's clock; the next attempt checks the broker's certificate against the pinned CA without its validity dates`,
        );
      }
      this.noteError(error.message);
      if (isCredentialRefusal(error))
        this.deps.onVerdict?.({ verdict: "refused", serial: identity.serial });
    });
    client.on("close", () => {
      if (client !== this.client || this.state.kind === "closed") return;
      const next = this.state.kind === "connected" ? 1 : attempt + 1;
      if (this.state.kind === "connected") {
        // Hint: a broker that learns of a renewal ends the old certificate's session, often before the answer is here.
        if (this.deps.renewing?.())
          this.deps.log.info(
            "mqtt: the broker ended the session of the certificate being renewed; reconnecting",
          );
        else this.deps.log.warn("mqtt: connection lost");
      }
      this.dropClient();
      const delay = retryDelay(
        next,
        this.deps.backoff ?? { minDelay: 1_000, maxDelay: 60_000 },
        this.deps.random,
      );
      this.state = { kind: "reconnecting", attempt: next, retryAt: this.deps.clock.now() + delay };
      this.retryHandle = this.deps.clock.setTimeout(() => {
        this.retryHandle = undefined;
        this.open(next);
      }, delay);
    });
  }

  /** Ends the current client without its will (a clean DISCONNECT), e.g. before using a new certificate. */
  private dropClient(): void {
    this.cancelRetry();
    const old = this.client;
    this.client = undefined;
    if (old) old.end(false);
  }

  private cancelRetry(): void {
    if (this.retryHandle !== undefined) this.deps.clock.clearTimeout(this.retryHandle);
    this.retryHandle = undefined;
  }

  private noteError(message: string): void {
    const line = message.replace(/\s+/g, " ").trim();
    if (line !== this.lastError) this.deps.log.warn(`mqtt: ${line}`);
    this.lastError = line;
  }

  /**
   * Runs `work` on `client` until it calls back, the connection closes or `ms` pass; undefined when it called
   * back without an error, else what went wrong. Hint: a QoS 1 publish on a connection that closes is never
   * answered (no reconnection here), so the close ends the wait rather than the timer.
   */
  private bounded(
    client: MqttClient,
    ms: number,
    work: (done: (error?: Error) => void) => void,
  ): Promise<string | undefined> {
    return new Promise((resolve) => {
      let handle: unknown;
      const finish = (problem: string | undefined) => {
        this.deps.clock.clearTimeout(handle);
        client.off("close", onClose);
        resolve(problem);
      };
      const onClose = () => finish("the connection to the broker closed");
      handle = this.deps.clock.setTimeout(
        () => finish(`no answer from the broker in ${ms / 1000} s`),
        ms,
      );
      client.on("close", onClose);
      work((error) => finish(error ? error.message : undefined));
    });
  }
}

/**
 * The URL without any user:password part, for logs and status. Hint: up to the last `@` of the authority, so a
 * password that holds an `@` leaves nothing of itself behind.
 */
export function redactUrl(url: string): string {
  return url.replace(/\/\/[^/?#]*@/, "//***@");
}
