/** What the answer to a request does to the agent's state: its phase, the certificate held, its history. */

import { describeFailure, say } from "./agent-messages.ts";
import type { AgentPhase, AgentState, AttemptResult, Request } from "./agent-state.ts";
import { type Effect, log, prefixed, same, type Transition } from "./agent-events.ts";
import type { Identity } from "./identity.ts";

/** The outcome of a provisioning answer (what follows it is the machine's). */
export function provisionOutcome(
  state: AgentState,
  request: Request,
  result: AttemptResult,
  now: number,
): Transition {
  if (result.ok) {
    const { identity } = result;
    return {
      state: { ...state, phase: { kind: "ready" }, held: { identity }, history: resolved(state) },
      effects: [
        log("info", say.provisioned(identity.serial)),
        { kind: "use", identity, cause: "provisioned" },
      ],
    };
  }
  const { failure } = result;
  if (failure.kind === "refused") {
    const reason = say.refusedProvisioning(failure.status, failure.message, state.held?.refused);
    // Hint: only now, not at the refused renewal: a reset device gets its new certificate from this provisioning.
    const refused = state.held?.refused !== undefined ? state.held.identity.serial : undefined;
    const withdraw: Effect[] = refused !== undefined ? [{ kind: "withdraw", serial: refused }] : [];
    return prefixed(
      [{ kind: "discard-adopted-key" }, ...withdraw],
      failed(state, { kind: "error", reason }, reason, now),
    );
  }
  const message = describeFailure(failure);
  const phase: AgentPhase =
    failure.kind === "local"
      ? { kind: "error", reason: message }
      : { kind: "provisioning", attempt: request.attempt };
  return failed(state, phase, message, now);
}

/** The outcome of a renewal answer for the certificate held. */
export function renewalOutcome(
  state: AgentState,
  request: Request,
  result: AttemptResult,
  now: number,
): Transition {
  const current = state.held?.identity;
  if (!current) return same(state);
  const { history } = state;
  if (result.ok) {
    const { identity } = result;
    return {
      state: {
        ...state,
        phase: { kind: "ready" },
        held: { identity },
        history: {
          ...resolved(state),
          renewals: history.renewals + 1,
          lastRenewal: now,
        },
      },
      effects: [
        log("info", say.renewed(identity.serial, current.serial)),
        { kind: "use", identity, cause: "renewed" },
      ],
    };
  }
  const counted = {
    ...state,
    history: { ...history, renewalFailures: history.renewalFailures + 1 },
  };
  const { failure } = result;
  if (failure.kind === "refused") {
    const reason = say.refusedRenewal(failure.message);
    const refused = { ...counted, held: { identity: current, refused: failure.message } };
    return failed(refused, { kind: "error", reason }, reason, now);
  }
  const phase = renewalPhase(current, request.attempt, now);
  return failed(counted, phase, describeFailure(failure), now);
}

/** `renewing`, or `expired` once the certificate ran out. */
export function renewalPhase(current: Identity, attempt: number, now: number): AgentPhase {
  return now >= current.notAfter ? { kind: "expired", attempt } : { kind: "renewing", attempt };
}

/** The history once a certificate was issued: whatever failed before is over (the log keeps it). */
function resolved(state: AgentState): AgentState["history"] {
  return { ...state.history, lastError: undefined };
}

/** Enters `phase` with `message` as the last error, logged as a warning. */
export function failed(
  state: AgentState,
  phase: AgentPhase,
  message: string,
  now: number,
): Transition {
  return {
    state: { ...state, phase, history: { ...state.history, lastError: { message, at: now } } },
    effects: [log("warn", message)],
  };
}
