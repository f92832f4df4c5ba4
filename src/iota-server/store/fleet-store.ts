/** The store's fleet contract: readiness, counters per group, the renewal forecast, filtered pages and history. */

import type { DeviceState } from "../../core/wire.ts";
import type { DeviceKey, DeviceRecord } from "./store.ts";

/** A device's readiness as counted: never seen by a watched broker, online, or offline. */
export type Readiness = "unseen" | "online" | "offline";

/** Devices of one group by state and readiness, from the counters kept with every write. */
export interface GroupTally {
  group: string;
  /** Certificate lifetime of the group in seconds (its renewal period is 2/3 of it). */
  validity: number;
  byState: Record<DeviceState, number>;
  /** Provisioned devices online and offline (devices never seen are neither). */
  online: number;
  offline: number;
}

/** Which groups a read covers: these names, or a page of them in name order after `after` ('' from the start). */
export type GroupSelection = { names: string[] } | { after: string; limit: number };

/** The whole tenant's counts at one instant. */
export interface FleetCounts extends Omit<GroupTally, "group" | "validity"> {
  expiringWithin24h: number;
  expiringWithin7d: number;
  overdue: number;
  /** How many groups the tenant has. */
  groups: number;
  /** The longest certificate lifetime of its groups, in seconds (0 without groups). */
  longestValidity: number;
}

/** Range counts of one group at one instant: certificates running out and renewals overdue. */
export interface GroupDue {
  group: string;
  /** Provisioned devices whose certificate expires in `[now, now + 24 h)`. */
  expiringWithin24h: number;
  /** ... in `[now, now + 7 d)`. */
  expiringWithin7d: number;
  /** Provisioned devices whose planned renewal passed before `overdueBefore` (renewing moves it on). */
  overdue: number;
}

/** What a page of a group's devices is filtered by; every field is optional and they combine. */
export interface DeviceFilter {
  state?: DeviceState;
  /** true: online; false: offline (devices never seen match neither). */
  online?: boolean;
  /** Provisioned devices whose planned renewal is before this instant (epoch ms). */
  renewBefore?: number;
  /** Provisioned devices whose certificate's notAfter is before this instant (epoch ms). */
  expiringBefore?: number;
  /** Names starting with this prefix. */
  prefix?: string;
}

/**
 * The order of a filtered page: by name, or (when the filter has a time range) by that time and then name, so
 * the most urgent devices come first and the page is read straight from an index.
 */
export type DeviceOrder = "name" | "renewAt" | "notAfter";

/** Where a page starts: after this device (and its time, in `renewAt`/`notAfter` order). */
export interface DeviceAfter {
  at?: number;
  name: string;
}

/** One event of a device's history. */
export interface DeviceEvent {
  at: number;
  event: "created" | "provisioned" | "renewed" | "revoked" | "reset";
  serial: string | null;
}

/** A readiness report from a broker: device `group/device` of `tenant` is online or not since `at`. */
export interface ReadinessChange {
  tenant: string;
  group: string;
  device: string;
  online: boolean;
  at: number;
}

/** The fleet part of the store. */
export interface FleetStore {
  /** Counters of the selected groups of a tenant, in name order. */
  groupTallies(tenantId: string, select: GroupSelection): Promise<GroupTally[]>;
  /** Range counts of the selected groups, in name order. */
  groupDue(
    tenantId: string,
    now: number,
    overdueBefore: number,
    select: GroupSelection,
  ): Promise<GroupDue[]>;
  /** The whole tenant's counts, at a cost that does not grow with its groups or devices. */
  fleetCounts(tenantId: string, now: number, overdueBefore: number): Promise<FleetCounts>;
  /** Every group with its number of devices, largest first (ties by name). */
  groupSizes(tenantId: string): Promise<{ group: string; devices: number }[]>;
  /**
   * Renewals planned per hour for `hours` hours from the hour `fromHour` (hours since the epoch), of the tenant
   * or of one group; element i counts provisioned devices whose renewal falls in hour `fromHour + i`.
   */
  renewalForecast(
    tenantId: string,
    group: string | undefined,
    fromHour: number,
    hours: number,
  ): Promise<number[]>;
  /** Up to `limit` devices of a group matching `filter`, in `order`, after `after`. */
  filterDevices(
    tenantId: string,
    group: string,
    filter: DeviceFilter,
    order: DeviceOrder,
    limit: number,
    after?: DeviceAfter,
  ): Promise<DeviceRecord[]>;
  /** The device's operator events (revoked, reset) and its certificates, oldest first, since it was created. */
  deviceHistory(key: DeviceKey): Promise<DeviceEvent[]>;
  /** Records readiness reports, writing only those that change a device; returns how many did. */
  applyReadiness(changes: ReadinessChange[]): Promise<number>;
  /** Marks every online device of a tenant offline (its broker restarted: they are gone until they reconnect). */
  markAllOffline(tenantId: string, now: number): Promise<number>;
  /** Drops forecast counters of hours before `beforeHour`, which no forecast reads any more. */
  pruneForecast(beforeHour: number): Promise<void>;
}
