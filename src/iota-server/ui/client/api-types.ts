/** The shapes of the API answers the dashboard reads: the core's wire types, as GET /v1/openapi.json documents them. */

import type { DeviceEventKind } from "../../../core/fleet.ts";
import type { DeviceView } from "../../../core/wire.ts";

export type {
  DeviceCounts,
  FleetStatus,
  GroupStatus,
  RenewalForecast,
} from "../../../core/fleet.ts";
export type { DeviceState, GroupView } from "../../../core/wire.ts";

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
  event: DeviceEventKind;
  serial: string | null;
}
