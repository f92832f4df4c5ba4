/**
 * The agent's answer to an MQTT broker that refuses its certificate: ask the service (by renewing, as
 * SIGHUP does) at once, then at most once per interval, and never again for a certificate the service
 * issued in answer to a refusal, until the broker has accepted it once.
 */

import { log, type Transition } from "./agent-events.ts";
import { say } from "./agent-messages.ts";
import type { AgentState, AttemptResult, BrokerWatch } from "./agent-state.ts";

/**
 * The shortest time between two renewals made because the broker refused: a broker that keeps refusing
 * (the device revoked in a way the service does not see, or a misconfigured broker) costs the service one
 * request per device per 10 minutes at most, while a revoked or reset device learns it at the first refusal.
 */
export const BROKER_CHECK_INTERVAL = 10 * 60_000;

/** Whether the broker refusing certificate `serial` at `now` (the service's time) makes the agent renew now. */
export function brokerCheckDue(
  state: AgentState,
  serial: string,
  now: number,
  interval: number,
): boolean {
  const { held, phase, activity, broker } = state;
  if (!held || held.refused !== undefined || held.identity.serial !== serial) return false;
  // Hint: only a device that believes it is fine needs the service's word; renewing, expired, provisioning
  // and error already ask the service on their own schedule, and a request in flight is that answer.
  if (phase.kind !== "ready" || activity.kind !== "waiting") return false;
  if (broker.vouched === serial) return false;
  const last = broker.checkedAt;
  // Hint: a clock set back since the last check (the service's time learned) must not block checks for the gap.
  return last === undefined || now < last || now - last >= interval;
}

/** The watch once `serial` is checked at `now`: a new episode, its answer still to come. */
export function brokerChecking(now: number): BrokerWatch {
  return { checkedAt: now, checking: true, vouched: undefined };
}

/** The watch once the broker accepted `serial`: a later refusal of it is news again. */
export function brokerAccepted(broker: BrokerWatch, serial: string): BrokerWatch {
  return broker.vouched === serial ? { ...broker, vouched: undefined } : broker;
}

/**
 * `transition` (the handling of an answer), with a running check settled: a certificate issued after the
 * broker refused is vouched for by the service; a check ends without one once the agent is in `error`.
 * A refused renewal leads to provisioning, whose answer settles the check in turn.
 */
export function settleBrokerCheck(transition: Transition, result: AttemptResult): Transition {
  const { state, effects } = transition;
  const { broker } = state;
  if (!broker.checking) return transition;
  if (result.ok) {
    const vouched = result.identity.serial;
    return {
      state: { ...state, broker: { ...broker, checking: false, vouched } },
      effects: [...effects, log("info", say.brokerVouched(vouched))],
    };
  }
  if (state.phase.kind !== "error") return transition;
  return { state: { ...state, broker: { ...broker, checking: false } }, effects };
}
