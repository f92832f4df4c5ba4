/** The fleet status wire types: the summary of a tenant or group, and a device's history (API v1). */

/** Devices by state. */
export interface DeviceCounts {
  total: number;
  created: number;
  provisioned: number;
  revoked: number;
}

/** The counts of one group, as listed in the tenant's summary. */
export interface GroupStatus {
  name: string;
  devices: DeviceCounts;
  /** Provisioned devices with a live broker session or a retained `ready` message. */
  online: number;
  /** Provisioned devices whose retained message is `offline`, or that are gone. */
  offline: number;
  /** Provisioned devices whose certificate expires within 24 hours (not yet expired). */
  expiringWithin24h: number;
  /** ... within 7 days (including those within 24 hours). */
  expiringWithin7d: number;
  /** Provisioned devices whose planned renewal passed more than `overdueSlackSeconds` ago. */
  overdueRenewals: number;
}

/** Renewals planned per bucket from `from`, through the latest a renewal can be planned (2/3 + 1/40 of the longest validity). */
export interface RenewalForecast {
  from: string;
  bucketSeconds: number;
  /** `renewals[i]`: renewals due in `[from + i * bucketSeconds, from + (i + 1) * bucketSeconds)`. */
  renewals: number[];
}

/** `GET /v1/status` (with `groups`) and `GET /v1/groups/{group}/status`. */
export interface FleetStatus extends Omit<GroupStatus, "name"> {
  /** When the summary was computed. */
  at: string;
  overdueSlackSeconds: number;
  forecast: RenewalForecast;
  /** The tenant's groups in name order, one page of them (`?limit&cursor`). */
  groups?: GroupStatus[];
  /** Present when more groups follow: pass it as `cursor`. */
  nextCursor?: string;
}

/** What happened to a device. */
export type DeviceEventKind = "created" | "provisioned" | "renewed" | "revoked" | "reset";

/** `GET /v1/groups/{group}/devices/{device}/history`, oldest first. */
export interface DeviceHistory {
  items: { at: string; event: DeviceEventKind; serial: string | null }[];
}
