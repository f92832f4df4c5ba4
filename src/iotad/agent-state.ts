/** The agent's state machine: one `state` value, and the status snapshot built from it. */

import type { ServiceFailure } from "./service-client.ts";
import type { Identity } from "./identity.ts";

/** Where the agent is. Exactly one of these at any time. */
export type AgentState =
  /** No certificate yet, nothing attempted. */
  | { kind: "unprovisioned" }
  /** Asking for the first certificate; `attempt` counts tries of this round. */
  | { kind: "provisioning"; attempt: number }
  /** A valid certificate is held; the next renewal is planned. */
  | { kind: "ready" }
  /** Renewing; the current certificate stays in use meanwhile. */
  | { kind: "renewing"; attempt: number }
  /** The certificate ran out before a renewal succeeded; renewal keeps being retried. */
  | { kind: "expired"; attempt: number }
  /**
   * The service refused for good (revoked, expired past the renew grace, unknown certificate, wrong
   * credential) or the data folder is unusable: provisioning is retried slowly until an operator's reset
   * (or a new config) lets it through.
   */
  | { kind: "error"; reason: string };

/** The names `/status` shows. */
export type AgentStateName = AgentState["kind"];

/** The outcome of one provisioning or renewal attempt. */
export type AttemptResult =
  | { ok: true; identity: Identity }
  | {
      ok: false;
      failure:
        | ServiceFailure
        | { kind: "local"; message: string }
        | { kind: "unprovisioned"; message: string };
    };

/** The agent part of `GET /status` (the daemon adds `mqtt`). Never holds a key, token or secret. */
export interface AgentSnapshot {
  state: AgentStateName;
  /** Attempt number while provisioning, renewing or expired. */
  attempt?: number;
  tenant?: string;
  group: string;
  device: string;
  serial: string | null;
  notBefore: string | null;
  notAfter: string | null;
  nextRenewal: string | null;
  lastRenewal: string | null;
  lastError: string | null;
  lastErrorAt: string | null;
  /** Service clock minus local clock, as last measured (ms); null before any answer. */
  clockSkewMs: number | null;
  renewals: number;
  renewalFailures: number;
  /** True while a certificate is held and inside its validity period (by the service's clock). */
  certificateValid: boolean;
  version: string;
}

/** The state name to show, noticing a certificate that ran out while nothing was being attempted. */
export function visibleState(
  state: AgentState,
  identity: Identity | undefined,
  now: number,
): AgentStateName {
  if (state.kind === "ready" && identity !== undefined && now >= identity.notAfter)
    return "expired";
  return state.kind;
}

/** One-line description of a failure for logs and `lastError`. */
export function describeFailure(failure: Exclude<AttemptResult, { ok: true }>["failure"]): string {
  switch (failure.kind) {
    case "refused":
      return `refused: ${failure.message}`;
    case "busy":
      return `service busy: ${failure.message}`;
    case "unreachable":
      return `service unreachable: ${failure.message}`;
    case "local":
      return `data folder: ${failure.message}`;
    case "unprovisioned":
      return failure.message;
  }
}
