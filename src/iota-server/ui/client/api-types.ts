/** The shapes of the API answers the dashboard reads, as GET /v1/openapi.json documents them. */

import type { DeviceState, DeviceView, GroupView } from "../../../core/wire.ts";

export type { DeviceState, GroupView };

/** Devices by state. */
export interface DeviceCounts {
  total: number;
  created: number;
  provisioned: number;
  revoked: number;
}

/** The counts of one group in a fleet summary. */
export interface GroupStatus {
  name: string;
  devices: DeviceCounts;
  online: number;
  offline: number;
  expiringWithin24h: number;
  expiringWithin7d: number;
  overdueRenewals: number;
}

/** Renewals due per bucket, from `from` on. */
export interface RenewalForecast {
  from: string;
  bucketSeconds: number;
  renewals: number[];
}

/** `GET /v1/status` (the tenant, with `groups`) and `GET /v1/groups/{group}/status`. */
export interface FleetStatus extends Omit<GroupStatus, "name"> {
  at: string;
  overdueSlackSeconds: number;
  forecast: RenewalForecast;
  groups?: GroupStatus[];
  /** The next page of `groups`, when there are more. */
  nextCursor?: string;
}

/**
 * A device; the readiness fields come with the fleet API and are absent on servers without it (hence
 * optional here, whichever way the core's DeviceView declares them).
 */
export interface Device extends Omit<DeviceView, "renewAt" | "online" | "seenAt"> {
  renewAt?: string | null;
  online?: boolean | null;
  seenAt?: string | null;
}

/** One page of a list. */
export interface ListPage<T> {
  items: T[];
  nextCursor?: string;
}

/** What happened to a device. */
export interface HistoryEvent {
  at: string;
  event: "created" | "provisioned" | "renewed" | "revoked" | "reset";
  serial: string | null;
}
