/** What the agent's state machine hears (events) and asks its driver to do (effects). */

import type { AgentState, AttemptResult, Request } from "./agent-state.ts";
import type { Identity } from "./identity.ts";
import type { Recovered } from "./identity-store.ts";

/** Why a new identity is in use. */
export type IdentityCause = "loaded" | "provisioned" | "renewed";

/** What happened. `now` is the service's time as the device knows it; `draw` is in [0, 1). */
export type AgentEvent =
  /** The data folder was read (at load, once, while no certificate is held). */
  | { kind: "recovered"; found: Recovered; now: number }
  /** The daemon starts its cycle; `pendingKey`: a key saved for a renewal has no certificate yet. */
  | { kind: "start"; now: number; pendingKey: boolean }
  /** The planned time came. */
  | { kind: "due"; now: number }
  /** SIGHUP: renew (or provision) now instead of at the planned time. */
  | { kind: "renew-now"; now: number }
  /** A one-shot command (`iotad provision`, `iotad renew`) asks for one attempt. */
  | { kind: "attempt-once"; request: Request["kind"]; now: number }
  /** The answer to the request in flight; `draw` jitters a retry. */
  | { kind: "answered"; result: AttemptResult; now: number; draw: number }
  /** Stop planning; a request in flight still has its answer handled. */
  | { kind: "stop" }
  /** The MQTT broker refused certificate `serial` (CONNACK not authorized / bad credentials). */
  | { kind: "broker-refused"; serial: string; now: number }
  /** The MQTT broker accepted certificate `serial`. */
  | { kind: "broker-accepted"; serial: string };

/** What the driver must do. */
export type Effect =
  /** Ask for a certificate with a new (or the adopted) key; `replacing` is the certificate held, if any. */
  | { kind: "provision"; attempt: number; replacing: Identity | undefined }
  /** Ask for a new certificate, proving possession of `current`'s key. */
  | { kind: "renew"; attempt: number; current: Identity }
  /** Set the timer (replacing any other) to deliver `due` at `at` (the service's time), when `request` is made. */
  | { kind: "schedule"; at: number; request: Request }
  /** Clear the timer. */
  | { kind: "cancel" }
  | { kind: "log"; level: "info" | "warn" | "error"; message: string }
  /** Put `identity` in use and tell the listeners. */
  | { kind: "use"; identity: Identity; cause: IdentityCause }
  /** Keep the key of an unreadable certificate, so provisioning fetches that certificate again. */
  | { kind: "adopt-current-key" }
  /** Forget an adopted key the service refused. */
  | { kind: "discard-adopted-key" }
  /** The service refused certificate `serial` for good: stop announcing with it (MQTT). */
  | { kind: "withdraw"; serial: string };

/** A transition: the new state and the effects to perform, in order. */
export interface Transition {
  state: AgentState;
  effects: Effect[];
}

/** A log line to write. */
export function log(level: "info" | "warn" | "error", message: string): Effect {
  return { kind: "log", level, message };
}

/** `state`, with `effects` (none by default). */
export function same(state: AgentState, effects: Effect[] = []): Transition {
  return { state, effects };
}

/** `transition`, with `effects` performed first. */
export function prefixed(effects: Effect[], transition: Transition): Transition {
  return { state: transition.state, effects: [...effects, ...transition.effects] };
}
