/** The agent's state: one value saying where it is, what it holds, what it does next and what it has seen. */

import type { Identity } from "./identity.ts";
import type { ServiceFailure } from "./service-client.ts";

/** Where the agent is, as `/status` shows it. Exactly one of these at any time. */
export type AgentPhase =
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
export type AgentStateName = AgentPhase["kind"];

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

/** Why an attempt gave no certificate. */
export type AttemptFailure = Extract<AttemptResult, { ok: false }>["failure"];

/** One request to the service: which, and the how-manieth try of its round. */
export interface Request {
  kind: "provision" | "renew";
  attempt: number;
}

/** The certificate in use. */
export interface Held {
  identity: Identity;
  /**
   * The service's refusal to renew it. It is kept to be shown (the certificate no longer counts as
   * valid) until provisioning, which is retried instead of renewal, replaces the certificate.
   */
  refused?: string;
}

/** What the agent does next. */
export type Activity =
  /** Nothing planned: before `start`, or after a one-shot attempt. */
  | { kind: "idle" }
  /** A timer is set: at `at` (the service's time) `request` is made. */
  | { kind: "waiting"; at: number; request: Request }
  /**
   * A request is in flight. After its answer the agent `continue`s its cycle (plans the next
   * attempt), `hold`s (a one-shot command: plans nothing), or `stop`s (stop came meanwhile).
   */
  | { kind: "requesting"; request: Request; after: "continue" | "hold" | "stop" }
  /** Stopped: nothing is planned ever again. */
  | { kind: "stopped" };

/** What `/status` counts and remembers, in the service's time. */
export interface History {
  renewals: number;
  renewalFailures: number;
  lastRenewal: number | undefined;
  /** The failure the agent is in now; cleared once a certificate is issued (the log keeps the past). */
  lastError: { message: string; at: number } | undefined;
}

/**
 * What the MQTT broker said about the certificate in use, and what the agent asked the service about it
 * (see agent-broker.ts).
 */
export interface BrokerWatch {
  /** When (the service's time) a broker refusal last made the agent renew to ask the service; none yet. */
  checkedAt: number | undefined;
  /** That renewal (or the provisioning after its refusal) is still going: its success vouches for the new certificate. */
  checking: boolean;
  /**
   * The serial the service issued in answer to a broker refusal. The broker refusing it too is the broker's
   * fault (its CA or CRL), so it is not renewed again for that until the broker has accepted it once.
   */
  vouched: string | undefined;
}

/** The agent's one state value: every transition replaces it whole. */
export interface AgentState {
  phase: AgentPhase;
  held: Held | undefined;
  activity: Activity;
  history: History;
  broker: BrokerWatch;
}

/** A new agent: nothing loaded, nothing attempted. */
export const INITIAL_STATE: AgentState = {
  phase: { kind: "unprovisioned" },
  held: undefined,
  activity: { kind: "idle" },
  history: { renewals: 0, renewalFailures: 0, lastRenewal: undefined, lastError: undefined },
  broker: { checkedAt: undefined, checking: false, vouched: undefined },
};
