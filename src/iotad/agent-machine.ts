/** The agent's state machine: a pure `next(state, event)` giving the new state and the effects to perform. */

import {
  type BackoffPolicy,
  type RenewalPolicy,
  renewalTime,
  retryDelay,
  serialRandom,
} from "../core/renewal.ts";
import {
  BROKER_CHECK_INTERVAL,
  brokerAccepted,
  brokerCheckDue,
  brokerChecking,
  settleBrokerCheck,
} from "./agent-broker.ts";
import {
  type AgentEvent,
  type Effect,
  log,
  prefixed,
  same,
  type Transition,
} from "./agent-events.ts";
import { say } from "./agent-messages.ts";
import { failed, provisionOutcome, renewalOutcome, renewalPhase } from "./agent-outcomes.ts";
import type {
  Activity,
  AgentState,
  AttemptFailure,
  AttemptResult,
  Request,
} from "./agent-state.ts";
import type { Recovered } from "./identity-store.ts";

/**
 * Retries after the service refused for good (revoked, expired past the renew grace, unknown): only an
 * operator can change that answer, so a refused fleet must not load the service, yet a device that was
 * reset comes back within the hour by itself.
 */
export const REFUSED_BACKOFF: BackoffPolicy = { minDelay: 60_000, maxDelay: 3600_000 };

/** What the machine is configured with (fixed for the agent's life). */
export interface MachineConfig {
  group: string;
  device: string;
  renewal: RenewalPolicy;
  /** Backoff after a failure that may pass by itself (network, busy service, disk). */
  backoff: BackoffPolicy;
  /** Backoff once the service refused. */
  refusedBackoff: BackoffPolicy;
  /** The shortest time between two renewals made because the MQTT broker refused ({@link BROKER_CHECK_INTERVAL}). */
  brokerCheckInterval: number;
}

export { BROKER_CHECK_INTERVAL };

/** The state after `event`, and what to do about it. */
export function next(state: AgentState, event: AgentEvent, config: MachineConfig): Transition {
  const { activity } = state;
  switch (event.kind) {
    case "recovered":
      return recovered(state, event.found, event.now);
    case "start":
      return activity.kind === "idle" ? start(state, event, config) : same(state);
    case "due":
      return activity.kind === "waiting"
        ? begin(state, activity.request, "continue", event.now, config)
        : same(state);
    case "renew-now": {
      if (activity.kind === "requesting") return same(state, [log("info", say.renewNowIgnored())]);
      if (activity.kind === "stopped") {
        const reason = state.phase.kind === "error" ? state.phase.reason : undefined;
        return same(state, [log("warn", say.renewNowStopped(reason))]);
      }
      const kind = state.held && state.held.refused === undefined ? "renew" : "provision";
      const cancel: Effect[] = activity.kind === "waiting" ? [{ kind: "cancel" }] : [];
      return prefixed(cancel, begin(state, { kind, attempt: 1 }, "continue", event.now, config));
    }
    case "attempt-once": {
      // Hint: a one-shot attempt does not change whether the agent runs its cycle; one already in flight is the answer.
      if (activity.kind === "requesting") return same(state);
      if (event.request === "renew" && !state.held) return same(state);
      const after = { idle: "hold", waiting: "continue", stopped: "stop" } as const;
      const cancel: Effect[] = activity.kind === "waiting" ? [{ kind: "cancel" }] : [];
      const request = { kind: event.request, attempt: 1 };
      return prefixed(cancel, begin(state, request, after[activity.kind], event.now, config));
    }
    case "answered":
      return activity.kind === "requesting"
        ? settleBrokerCheck(
            answered(state, activity, event.result, event.now, event.draw, config),
            event.result,
          )
        : same(state);
    case "broker-refused": {
      if (!brokerCheckDue(state, event.serial, event.now, config.brokerCheckInterval))
        return same(state);
      // Hint: the broker learns of a revocation, reset or deletion within seconds; the renewal carries the service's reason.
      const checking = { ...state, broker: brokerChecking(event.now) };
      const renew: Request = { kind: "renew", attempt: 1 };
      const note = log("warn", say.brokerRefused(event.serial));
      return prefixed(
        [{ kind: "cancel" }, note],
        begin(checking, renew, "continue", event.now, config),
      );
    }
    case "broker-accepted": {
      const broker = brokerAccepted(state.broker, event.serial);
      return same(broker === state.broker ? state : { ...state, broker });
    }
    case "stop":
      if (activity.kind === "requesting")
        return same({ ...state, activity: { ...activity, after: "stop" } });
      return {
        state: { ...state, activity: { kind: "stopped" } },
        effects: activity.kind === "waiting" ? [{ kind: "cancel" }] : [],
      };
  }
}

/** The answer `renewOnce` gives when no certificate is held (after a load). */
export function nothingToRenew(state: AgentState): AttemptFailure {
  if (state.phase.kind === "error") return { kind: "local", message: state.phase.reason };
  return { kind: "unprovisioned", message: say.nothingToRenew() };
}

function recovered(state: AgentState, found: Recovered, now: number): Transition {
  if (found.kind === "empty" || state.held) return same(state);
  if (found.kind === "foreign") {
    // Hint: stopped, so neither the cycle nor SIGHUP provisions over the other device's key and certificate.
    const error = { message: found.reason, at: now };
    return {
      state: {
        ...state,
        phase: { kind: "error", reason: found.reason },
        activity: { kind: "stopped" },
        history: { ...state.history, lastError: error },
      },
      effects: [log("error", found.reason)],
    };
  }
  if (found.kind === "held")
    return {
      state: { ...state, phase: { kind: "ready" }, held: { identity: found.identity } },
      effects: [{ kind: "use", identity: found.identity, cause: "loaded" }],
    };
  // The service keeps the certificate it issued for the key on disk: provisioning with that key fetches it again.
  const reason = say.brokenDataFolder(found.reason);
  const broken = failed(state, { kind: "error", reason }, reason, now);
  return { state: broken.state, effects: [...broken.effects, { kind: "adopt-current-key" }] };
}

function start(
  state: AgentState,
  event: { now: number; pendingKey: boolean },
  config: MachineConfig,
): Transition {
  const held = state.held?.identity;
  const renew: Request = { kind: "renew", attempt: 1 };
  if (!held) return begin(state, { kind: "provision", attempt: 1 }, "continue", event.now, config);
  if (event.pendingKey) {
    // The last request's answer may be lost while the service already issued for that key: fetch it now, not at the next due time.
    const note = log("info", say.interruptedRenewal());
    return prefixed([note], begin(state, renew, "continue", event.now, config));
  }
  if (event.now < held.notBefore) {
    // A clock before the certificate's own start is wrong (a dead RTC battery); a schedule on it would never come due. The answer teaches the service's time.
    const note = log("warn", say.clockBeforeNotBefore(event.now));
    return prefixed([note], begin(state, renew, "continue", event.now, config));
  }
  return plan(state, config);
}

/** Starts `request`: the phase says so, and the request is sent. */
function begin(
  state: AgentState,
  request: Request,
  after: Extract<Activity, { kind: "requesting" }>["after"],
  now: number,
  config: MachineConfig,
): Transition {
  const activity: Activity = { kind: "requesting", request, after };
  const { attempt } = request;
  if (request.kind === "provision")
    return {
      state: { ...state, phase: { kind: "provisioning", attempt }, activity },
      effects: [
        log("info", say.provisioning(config.group, config.device, attempt)),
        { kind: "provision", attempt, replacing: state.held?.identity },
      ],
    };
  const current = state.held?.identity;
  if (!current) return same(state);
  return {
    state: { ...state, phase: renewalPhase(current, attempt, now), activity },
    effects: [
      log("info", say.renewing(current.serial, attempt)),
      { kind: "renew", attempt, current },
    ],
  };
}

/** The planned renewal of the held certificate. */
function plan(state: AgentState, config: MachineConfig): Transition {
  const id = state.held?.identity;
  if (!id) return same({ ...state, activity: { kind: "idle" } });
  const at = renewalTime(id, config.renewal, serialRandom(id.serial), id.first);
  const renew: Request = { kind: "renew", attempt: 1 };
  return {
    state: { ...state, activity: { kind: "waiting", at, request: renew } },
    effects: [log("info", say.renewalPlanned(id, at)), { kind: "schedule", at, request: renew }],
  };
}

function answered(
  state: AgentState,
  activity: Extract<Activity, { kind: "requesting" }>,
  result: AttemptResult,
  now: number,
  draw: number,
  config: MachineConfig,
): Transition {
  const { request, after } = activity;
  const outcome =
    request.kind === "provision"
      ? provisionOutcome(state, request, result, now)
      : renewalOutcome(state, request, result, now);
  if (after !== "continue") {
    const rest: Activity = { kind: after === "hold" ? "idle" : "stopped" };
    return { state: { ...outcome.state, activity: rest }, effects: outcome.effects };
  }
  if (result.ok) return prefixed(outcome.effects, plan(outcome.state, config));
  // Refused for good: the held certificate can never be renewed; provisioning (at once, then slowly) is the way back.
  if (request.kind === "renew" && result.failure.kind === "refused") {
    const provision: Request = { kind: "provision", attempt: 1 };
    return prefixed(outcome.effects, begin(outcome.state, provision, "continue", now, config));
  }
  const retryAfter = "retryAfterMs" in result.failure ? result.failure.retryAfterMs : undefined;
  const policy = result.failure.kind === "refused" ? config.refusedBackoff : config.backoff;
  const delay = retryDelay(request.attempt, policy, () => draw, retryAfter);
  const again: Request = { kind: request.kind, attempt: request.attempt + 1 };
  const at = now + delay;
  return {
    state: { ...outcome.state, activity: { kind: "waiting", at, request: again } },
    effects: [
      ...outcome.effects,
      log("info", say.retrying(delay, request.attempt)),
      { kind: "schedule", at, request: again },
    ],
  };
}
