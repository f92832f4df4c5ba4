/** The agent: provisions once, then keeps the certificate renewed inside its refresh window, retrying with backoff. */

import {
  DEFAULT_BACKOFF,
  type BackoffPolicy,
  type RenewalPolicy,
  renewalTime,
  retryDelay,
  serialRandom,
} from "../core/renewal.ts";
import { signRenewProof } from "../core/renew-proof.ts";
import { VERSION } from "../core/version.ts";
import {
  type AgentSnapshot,
  type AgentState,
  type AttemptResult,
  describeFailure,
  visibleState,
} from "./agent-state.ts";
import { type Clock, WakeTimer } from "./clock.ts";
import type { Identity } from "./identity.ts";
import type { IdentityStore } from "./identity-store.ts";
import type { Logger } from "./logger.ts";
import type { ServerClock } from "./server-clock.ts";
import type { ProvisionRequest, ServiceClient } from "./service-client.ts";
import { signRecoveryProof } from "../core/recovery-proof.ts";

/**
 * Retries after the service refused for good (revoked, expired past the renew grace, unknown): only an
 * operator can change that answer, so a refused fleet must not load the service, yet a device that was
 * reset comes back within the hour by itself.
 */
export const REFUSED_BACKOFF: BackoffPolicy = { minDelay: 60_000, maxDelay: 3600_000 };

/** What a refused device needs, in the words of its status and log. */
const RESET_ADVICE =
  "the device must be reset by an operator (iotactl reset device) and provisioned again, which it then does by itself";

/** Why a new identity is in use. */
export type IdentityCause = "loaded" | "provisioned" | "renewed";

/** What the agent is given. */
export interface AgentDeps {
  settings: {
    tenant?: string;
    group: string;
    device: string;
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
}

/** The device agent's renewal state machine. */
export class Agent {
  private state: AgentState = { kind: "unprovisioned" };
  private identity: Identity | undefined;
  private readonly timer: WakeTimer;
  private busy: Promise<unknown> | undefined;
  private stopped = false;
  private readonly listeners: ((identity: Identity, cause: IdentityCause) => void)[] = [];
  private lastError: { message: string; at: number } | undefined;
  private lastRenewal: number | undefined;
  private renewals = 0;
  private renewalFailures = 0;
  /** The service's refusal of the held certificate: it is kept only to be shown, and provisioning is retried instead. */
  private refusedRenewal: string | undefined;

  constructor(private readonly deps: AgentDeps) {
    this.timer = new WakeTimer(deps.clock, () => deps.serverClock.now());
  }

  /** Calls `listener` whenever another key and certificate come into use. */
  onIdentity(listener: (identity: Identity, cause: IdentityCause) => void): void {
    this.listeners.push(listener);
  }

  /** The state now. */
  current(): AgentState {
    return this.state;
  }

  /** The key and certificate in use. */
  heldIdentity(): Identity | undefined {
    return this.identity;
  }

  /** Loads what is on disk (finishing an interrupted swap); true when a certificate is held. */
  async load(): Promise<boolean> {
    if (this.identity) return true;
    const found = await this.deps.store.recover();
    if (found.kind === "broken") {
      // The service keeps the certificate it issued for the key on disk: provisioning with that key fetches it again.
      const reason = `data folder: ${found.reason}; provisioning again with the device's key`;
      this.enter({ kind: "error", reason });
      this.noteError(reason);
      this.deps.store.adoptCurrentKey();
      return false;
    }
    if (found.kind === "empty") return false;
    this.use(found.identity, "loaded");
    this.enter({ kind: "ready" });
    return true;
  }

  /** Starts the daemon's cycle: provision if needed, then renew on schedule, forever. */
  async start(): Promise<void> {
    const held = await this.load();
    if (!held || !this.identity) return this.runProvisioning(1);
    if (this.deps.store.hasPendingKey(this.identity)) {
      // The last request's answer may be lost while the service already issued for that key: fetch it now, not at the next due time.
      this.deps.log.info("a renewal was interrupted before its answer was saved; renewing now");
      return this.runRenewal(1);
    }
    if (this.deps.serverClock.now() < this.identity.notBefore) {
      // A clock before the certificate's own start is wrong (a dead RTC battery); a schedule on it would never come due. The answer teaches the service's time.
      this.deps.log.warn(
        `the clock (${new Date(this.deps.serverClock.now()).toISOString()}) is before the certificate's notBefore; renewing now to learn the service's time`,
      );
      return this.runRenewal(1);
    }
    this.planRenewal();
  }

  /** SIGHUP: renew (or retry provisioning) now instead of at the planned time. */
  renewNow(): void {
    if (this.stopped || this.busy) {
      this.deps.log.info("a request to the service is already running; renew-now ignored");
      return;
    }
    this.timer.cancel();
    if (this.identity && this.refusedRenewal === undefined) this.runRenewal(1);
    else this.runProvisioning(1);
  }

  /** Stops planning; waits for a running request to finish (its result is still saved). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer.cancel();
    await this.busy;
  }

  /** One provisioning attempt (for `iotad provision`); a held certificate counts as success. */
  async provisionOnce(): Promise<AttemptResult> {
    if (await this.load()) return { ok: true, identity: this.identity as Identity };
    return await this.track(this.provision(1));
  }

  /** One renewal attempt now (for `iotad renew`). */
  async renewOnce(): Promise<AttemptResult> {
    if (!(await this.load())) {
      if (this.state.kind === "error")
        return { ok: false, failure: { kind: "local", message: this.state.reason } };
      return {
        ok: false,
        failure: {
          kind: "unprovisioned",
          message: "there is no certificate to renew yet; run `iotad provision` first",
        },
      };
    }
    return await this.track(this.renew(1));
  }

  /** The status snapshot (no secrets). */
  snapshot(): AgentSnapshot {
    const now = this.deps.serverClock.now();
    const id = this.identity;
    const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
    const snapshot: AgentSnapshot = {
      state: visibleState(this.state, id, now),
      group: this.deps.settings.group,
      device: this.deps.settings.device,
      serial: id?.serial ?? null,
      notBefore: iso(id?.notBefore),
      notAfter: iso(id?.notAfter),
      nextRenewal: iso(this.timer.dueAt()),
      lastRenewal: iso(this.lastRenewal),
      lastError: this.lastError?.message ?? null,
      lastErrorAt: iso(this.lastError?.at),
      clockSkewMs: this.deps.serverClock.skew(),
      renewals: this.renewals,
      renewalFailures: this.renewalFailures,
      certificateValid:
        id !== undefined &&
        now >= id.notBefore &&
        now < id.notAfter &&
        this.refusedRenewal === undefined,
      version: VERSION,
    };
    if ("attempt" in this.state) snapshot.attempt = this.state.attempt;
    if (this.deps.settings.tenant !== undefined) snapshot.tenant = this.deps.settings.tenant;
    return snapshot;
  }

  private runProvisioning(attempt: number): void {
    void this.track(this.provision(attempt)).then((result) => {
      if (this.stopped) return;
      if (result.ok) return this.planRenewal();
      this.retry(result, attempt, () => this.runProvisioning(attempt + 1));
    });
  }

  private runRenewal(attempt: number): void {
    void this.track(this.renew(attempt)).then((result) => {
      if (this.stopped) return;
      if (result.ok) return this.planRenewal();
      // Refused for good: the held certificate can never be renewed; provisioning (at once, then slowly) is the way back.
      if (result.failure.kind === "refused") return this.runProvisioning(1);
      this.retry(result, attempt, () => this.runRenewal(attempt + 1));
    });
  }

  private retry(
    result: Exclude<AttemptResult, { ok: true }>,
    attempt: number,
    again: () => void,
  ): void {
    const retryAfter = "retryAfterMs" in result.failure ? result.failure.retryAfterMs : undefined;
    const policy =
      result.failure.kind === "refused"
        ? (this.deps.refusedBackoff ?? REFUSED_BACKOFF)
        : (this.deps.backoff ?? DEFAULT_BACKOFF);
    const delay = retryDelay(attempt, policy, this.deps.random, retryAfter);
    this.deps.log.info(`retrying in ${Math.round(delay / 1000)} s (attempt ${attempt + 1})`);
    this.timer.at(this.deps.serverClock.now() + delay, again);
  }

  private planRenewal(): void {
    const id = this.identity;
    if (!id || this.stopped) return;
    const at = renewalTime(id, this.deps.settings.renewal, serialRandom(id.serial), id.first);
    this.deps.log.info(
      `certificate ${id.serial} valid until ${new Date(id.notAfter).toISOString()}; renewal planned at ${new Date(at).toISOString()}`,
    );
    this.timer.at(at, () => this.runRenewal(1));
  }

  private async provision(attempt: number): Promise<AttemptResult> {
    const { settings, store, service, log } = this.deps;
    this.enter({ kind: "provisioning", attempt });
    log.info(`provisioning ${settings.group}/${settings.device} (attempt ${attempt})`);
    const result = await this.guardLocal(async () => {
      const request = await store.nextRequestKey(settings.device, this.identity);
      const body: ProvisionRequest = {
        group: settings.group,
        device: settings.device,
        csr: request.csr,
        credential: settings.credential,
      };
      if (settings.tenant !== undefined) body.tenant = settings.tenant;
      // Hint: after an operator's reset the service asks for proof of the key the device held; the token alone is not enough.
      if (this.identity) {
        const now = new Date(this.deps.serverClock.now());
        body.proof = await signRecoveryProof(
          this.identity.keys.privateKey,
          settings.group,
          settings.device,
          request.csr,
          now,
        );
      }
      const answer = await service.provision(body);
      if (!answer.ok) return answer;
      return {
        ok: true,
        identity: await store.install(answer.issued, request.keyPem, true),
      } as const;
    });
    if (result.ok) {
      this.refusedRenewal = undefined;
      this.enter({ kind: "ready" });
      log.info(`provisioned: certificate ${result.identity.serial}`);
      this.use(result.identity, "provisioned");
    } else if (result.failure.kind === "refused") {
      store.discardAdoptedKey();
      const reason = this.refusalReason(result.failure.status, result.failure.message);
      this.noteError(reason);
      this.enter({ kind: "error", reason });
    } else {
      const message = describeFailure(result.failure);
      this.noteError(message);
      this.enter(
        result.failure.kind === "local"
          ? { kind: "error", reason: message }
          : { kind: "provisioning", attempt },
      );
    }
    return result;
  }

  private async renew(attempt: number): Promise<AttemptResult> {
    const { settings, store, service, serverClock, log } = this.deps;
    const current = this.identity as Identity;
    const expired = () => serverClock.now() >= current.notAfter;
    this.enter(expired() ? { kind: "expired", attempt } : { kind: "renewing", attempt });
    log.info(`renewing certificate ${current.serial} (attempt ${attempt})`);
    const result = await this.guardLocal(async () => {
      const request = await store.nextRequestKey(settings.device, current);
      const offset = serverClock.offset();
      const proof = await signRenewProof(
        current.keys.privateKey,
        current.serial,
        request.csr,
        new Date(serverClock.now()),
      );
      const answer = await service.renew(current.certPem, proof);
      if (!answer.ok && answer.failure.kind === "refused" && serverClock.offset() !== offset) {
        // Hint: the proof was signed by a clock this very answer corrected (a device that booted with its clock far off); not a refusal for good.
        return {
          ok: false,
          failure: {
            kind: "busy",
            status: answer.failure.status,
            message: `${answer.failure.message} (signed before the service's clock was known; retrying)`,
          },
        } as const;
      }
      if (!answer.ok) return answer;
      return {
        ok: true,
        identity: await store.install(answer.issued, request.keyPem, false),
      } as const;
    });
    if (result.ok) {
      this.renewals++;
      this.lastRenewal = serverClock.now();
      this.enter({ kind: "ready" });
      log.info(`renewed: certificate ${result.identity.serial} replaces ${current.serial}`);
      this.use(result.identity, "renewed");
    } else if (result.failure.kind === "refused") {
      this.renewalFailures++;
      this.refusedRenewal = result.failure.message;
      const reason = `the service refused renewal: ${result.failure.message}; ${RESET_ADVICE}`;
      this.noteError(reason);
      this.enter({ kind: "error", reason });
    } else {
      this.renewalFailures++;
      this.noteError(describeFailure(result.failure));
      this.enter(expired() ? { kind: "expired", attempt } : { kind: "renewing", attempt });
    }
    return result;
  }

  /** The `error` reason for a refused provisioning: a wrong credential needs a new config, anything else an operator's reset. */
  private refusalReason(status: number, message: string): string {
    if (this.refusedRenewal !== undefined)
      return `the service refused renewal: ${this.refusedRenewal}; provisioning again was refused too: ${message}; ${RESET_ADVICE}`;
    if (status === 401)
      return `the service refused provisioning: ${message}; check the device's token or secret`;
    return `the service refused provisioning: ${message}; ${RESET_ADVICE}`;
  }

  /** Turns a thrown local failure (disk full, permission) into a value. */
  private async guardLocal(work: () => Promise<AttemptResult>): Promise<AttemptResult> {
    try {
      return await work();
    } catch (error) {
      return { ok: false, failure: { kind: "local", message: (error as Error).message } };
    }
  }

  private async track<T>(work: Promise<T>): Promise<T> {
    this.busy = work;
    try {
      return await work;
    } finally {
      this.busy = undefined;
    }
  }

  private use(identity: Identity, cause: IdentityCause): void {
    this.identity = identity;
    for (const listener of this.listeners) {
      try {
        listener(identity, cause);
      } catch (error) {
        // A failing announcement or hook must never undo a certificate that is already on disk.
        this.deps.log.error(`after ${cause} certificate: ${(error as Error).message}`);
      }
    }
  }

  private enter(state: AgentState): void {
    this.state = state;
  }

  private noteError(message: string): void {
    this.lastError = { message, at: this.deps.serverClock.now() };
    this.deps.log.warn(message);
  }
}
