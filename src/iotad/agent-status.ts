/** The agent's status snapshot (`GET /status` without `mqtt`): a pure function of its state. */

import { VERSION } from "../core/version.ts";
import type { AgentPhase, AgentState, AgentStateName } from "./agent-state.ts";
import { type DeviceNaming, namingWarning } from "./device-naming.ts";
import type { Identity } from "./identity.ts";

/** The agent part of `GET /status` (the daemon adds `mqtt`). Never holds a key, token or secret. */
export interface AgentSnapshot {
  state: AgentStateName;
  /** Attempt number while provisioning, renewing or expired. */
  attempt?: number;
  tenant?: string;
  group: string;
  device: string;
  /** Present when the device is named by its hardware: the source, what it gives now, the pinned name. */
  deviceSource?: DeviceSourceStatus;
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

/** How a device named by its hardware got its name (`deviceSource` in `/status`). */
export interface DeviceSourceStatus extends DeviceNaming {
  /** The name the source gives now is not the pinned one (a swapped NIC): the agent keeps the pinned name. */
  mismatch: boolean;
  /** What an operator should know about the mismatch; null without one. */
  warning: string | null;
}

/** What the snapshot shows besides the state. */
export interface SnapshotContext {
  settings: { tenant?: string; group: string; device: string; naming?: DeviceNaming };
  /** The service's time now. */
  now: number;
  /** The last measured clock skew (ms), or null. */
  skew: number | null;
}

/** The snapshot of `state`. */
export function agentSnapshot(state: AgentState, context: SnapshotContext): AgentSnapshot {
  const { settings, now } = context;
  const { phase, history, activity } = state;
  const id = state.held?.identity;
  const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());
  const snapshot: AgentSnapshot = {
    state: visibleState(phase, id, now),
    group: settings.group,
    device: settings.device,
    serial: id?.serial ?? null,
    notBefore: iso(id?.notBefore),
    notAfter: iso(id?.notAfter),
    nextRenewal: iso(activity.kind === "waiting" ? activity.at : undefined),
    lastRenewal: iso(history.lastRenewal),
    lastError: history.lastError?.message ?? null,
    lastErrorAt: iso(history.lastError?.at),
    clockSkewMs: context.skew,
    renewals: history.renewals,
    renewalFailures: history.renewalFailures,
    certificateValid:
      id !== undefined &&
      now >= id.notBefore &&
      now < id.notAfter &&
      state.held?.refused === undefined,
    version: VERSION,
  };
  if ("attempt" in phase) snapshot.attempt = phase.attempt;
  if (settings.naming !== undefined) snapshot.deviceSource = deviceSourceStatus(settings.naming);
  if (settings.tenant !== undefined) snapshot.tenant = settings.tenant;
  return snapshot;
}

/** The `deviceSource` of `/status`. */
export function deviceSourceStatus(naming: DeviceNaming): DeviceSourceStatus {
  const warning = namingWarning(naming) ?? null;
  return { ...naming, mismatch: warning !== null, warning };
}

/**
 * The state name to show, noticing a certificate that ran out while nothing was being attempted: while ready,
 * or while renewing between two attempts (a backoff can wait minutes past the certificate's end).
 */
export function visibleState(
  phase: AgentPhase,
  identity: Identity | undefined,
  now: number,
): AgentStateName {
  const ranOut = identity !== undefined && now >= identity.notAfter;
  if (ranOut && (phase.kind === "ready" || phase.kind === "renewing")) return "expired";
  return phase.kind;
}
