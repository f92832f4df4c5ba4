/** The agent: drives its state machine, performing its effects (requests, disk, timer, log, listeners). */

import { DEFAULT_BACKOFF, type BackoffPolicy, type RenewalPolicy } from "../core/renewal.ts";
import type { AgentEvent, Effect, IdentityCause } from "./agent-events.ts";
import {
  BROKER_CHECK_INTERVAL,
  type MachineConfig,
  next,
  nothingToRenew,
  REFUSED_BACKOFF,
} from "./agent-machine.ts";
import { say } from "./agent-messages.ts";
import { provisionRequest, renewRequest } from "./agent-requests.ts";
import {
  type AgentPhase,
  type AgentState,
  type AttemptResult,
  INITIAL_STATE,
} from "./agent-state.ts";
import { type AgentSnapshot, agentSnapshot } from "./agent-status.ts";
import { type Clock, WakeTimer } from "./clock.ts";
import type { DeviceNaming } from "./device-naming.ts";
import type { Identity } from "./identity.ts";
import type { IdentityStore } from "./identity-store.ts";
import type { Logger } from "./logger.ts";
import type { ServerClock } from "./server-clock.ts";
import type { ServiceClient } from "./service-client.ts";

export type { IdentityCause } from "./agent-events.ts";
export { BROKER_CHECK_INTERVAL, REFUSED_BACKOFF } from "./agent-machine.ts";

/** What the agent is given. */
export interface AgentDeps {
  settings: {
    tenant?: string;
    group: string;
    device: string;
    /** How a device named by its hardware got its name (shown in the snapshot). */
    naming?: DeviceNaming;
    credential: { kind: "token" | "secret"; value: string };
    renewal: RenewalPolicy;
  };
  store: IdentityStore;
  service: ServiceClient;
  serverClock: ServerClock;
  clock: Clock;
  /** Jitter source for retries, [0, 1). */
  random: () => number;
  log: Logger;
  backoff?: BackoffPolicy;
  /** Backoff once the service refused (default {@link REFUSED_BACKOFF}). */
  refusedBackoff?: BackoffPolicy;
  /** Shortest time between renewals made because the MQTT broker refused (default {@link BROKER_CHECK_INTERVAL}). */
  brokerCheckInterval?: number;
}

/** The device agent: provisions once, then keeps the certificate renewed inside its refresh window. */
export class Agent {
  private state: AgentState = INITIAL_STATE;
  private readonly config: MachineConfig;
  private readonly timer: WakeTimer;
  private readonly listeners: ((identity: Identity, cause: IdentityCause) => void)[] = [];
  private readonly withdrawListeners: ((serial: string) => void)[] = [];
  /** The answer of the request being performed, awaited by `stop` and the one-shot commands. */
  private inFlight: Promise<AttemptResult> | undefined;

  constructor(private readonly deps: AgentDeps) {
    this.timer = new WakeTimer(deps.clock, () => deps.serverClock.now());
    this.config = {
      group: deps.settings.group,
      device: deps.settings.device,
      renewal: deps.settings.renewal,
      backoff: deps.backoff ?? DEFAULT_BACKOFF,
      refusedBackoff: deps.refusedBackoff ?? REFUSED_BACKOFF,
      brokerCheckInterval: deps.brokerCheckInterval ?? BROKER_CHECK_INTERVAL,
    };
  }

  /** Calls `listener` whenever another key and certificate come into use. */
  onIdentity(listener: (identity: Identity, cause: IdentityCause) => void): void {
    this.listeners.push(listener);
  }

  /** Calls `listener` when the service refused the certificate in use for good (revoked, past the renew grace). */
  onWithdraw(listener: (serial: string) => void): void {
    this.withdrawListeners.push(listener);
  }

  /** The state now, as `/status` names it. */
  current(): AgentPhase {
    return this.state.phase;
  }

  /** The key and certificate in use. */
  heldIdentity(): Identity | undefined {
    return this.state.held?.identity;
  }

  /** Loads what is on disk (finishing an interrupted swap); true when a certificate is held. */
  async load(): Promise<boolean> {
    if (this.state.held) return true;
    const found = await this.deps.store.recover();
    this.dispatch({ kind: "recovered", found, now: this.now() });
    return this.state.held !== undefined;
  }

  /** Starts the daemon's cycle: provision if needed, then renew on schedule, forever. */
  async start(): Promise<void> {
    await this.load();
    const held = this.state.held?.identity;
    const pendingKey = held !== undefined && this.deps.store.hasPendingKey(held);
    this.dispatch({ kind: "start", now: this.now(), pendingKey });
  }

  /** SIGHUP: renew (or retry provisioning) now instead of at the planned time. */
  renewNow(): void {
    this.dispatch({ kind: "renew-now", now: this.now() });
  }

  /** The MQTT broker refused certificate `serial`: renews now when a check is due (agent-broker.ts). */
  brokerRefused(serial: string): void {
    this.dispatch({ kind: "broker-refused", serial, now: this.now() });
  }

  /** The MQTT broker accepted certificate `serial`. */
  brokerAccepted(serial: string): void {
    this.dispatch({ kind: "broker-accepted", serial });
  }

  /** Stops planning; waits for a running request to finish (its result is still saved). */
  async stop(): Promise<void> {
    this.dispatch({ kind: "stop" });
    await this.inFlight;
  }

  /** One provisioning attempt (for `iotad provision`); a held certificate counts as success. */
  async provisionOnce(): Promise<AttemptResult> {
    const held = (await this.load()) ? this.state.held?.identity : undefined;
    if (held) return { ok: true, identity: held };
    // Hint: only a data folder of another device stops the agent on load; it is not provisioned over.
    if (this.state.activity.kind === "stopped")
      return { ok: false, failure: nothingToRenew(this.state) };
    return await this.once("provision");
  }

  /** One renewal attempt now (for `iotad renew`). */
  async renewOnce(): Promise<AttemptResult> {
    if (!(await this.load())) return { ok: false, failure: nothingToRenew(this.state) };
    return await this.once("renew");
  }

  /** The status snapshot (no secrets). */
  snapshot(): AgentSnapshot {
    const { settings, serverClock } = this.deps;
    return agentSnapshot(this.state, { settings, now: this.now(), skew: serverClock.skew() });
  }

  private async once(request: "provision" | "renew"): Promise<AttemptResult> {
    this.dispatch({ kind: "attempt-once", request, now: this.now() });
    const answer = this.inFlight;
    if (answer === undefined) throw new Error(`no ${request} attempt could be started`);
    return await answer;
  }

  private now(): number {
    return this.deps.serverClock.now();
  }

  private dispatch(event: AgentEvent): void {
    const { state, effects } = next(this.state, event, this.config);
    this.state = state;
    for (const effect of effects) this.perform(effect);
  }

  private perform(effect: Effect): void {
    const { store, log } = this.deps;
    switch (effect.kind) {
      case "provision":
        this.request(provisionRequest(this.deps, effect.replacing));
        break;
      case "renew":
        this.request(renewRequest(this.deps, effect.current));
        break;
      case "schedule":
        this.timer.at(effect.at, () => this.dispatch({ kind: "due", now: this.now() }));
        break;
      case "cancel":
        this.timer.cancel();
        break;
      case "log":
        log[effect.level](effect.message);
        break;
      case "use":
        this.tell(effect.identity, effect.cause);
        break;
      case "adopt-current-key":
        store.adoptCurrentKey();
        break;
      case "discard-adopted-key":
        store.discardAdoptedKey();
        break;
      case "withdraw":
        for (const listener of this.withdrawListeners) listener(effect.serial);
        break;
    }
  }

  /** Hands the answer of `work` to the machine, then to whoever waits for it. */
  private request(work: Promise<AttemptResult>): void {
    const answer = work.then((result) => {
      this.dispatch({ kind: "answered", result, now: this.now(), draw: this.deps.random() });
      return result;
    });
    this.inFlight = answer;
    void answer.finally(() => {
      if (this.inFlight === answer) this.inFlight = undefined;
    });
  }

  private tell(identity: Identity, cause: IdentityCause): void {
    for (const listener of this.listeners) {
      try {
        listener(identity, cause);
      } catch (error) {
        // A failing announcement or hook must never undo a certificate that is already on disk.
        this.deps.log.error(say.listenerFailed(cause, (error as Error).message));
      }
    }
  }
}
