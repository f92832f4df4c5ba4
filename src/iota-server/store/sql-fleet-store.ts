/** The fleet part of the SQL store ({@link FleetStore}), the base the full store builds on. */

import type { Dialect } from "./migrations.ts";
import type { Driver, Query } from "./sql-driver.ts";
import type {
  DeviceAfter,
  DeviceEvent,
  DeviceFilter,
  DeviceOrder,
  FleetCounts,
  FleetStore,
  GroupDue,
  GroupSelection,
  GroupTally,
  ReadinessChange,
} from "./fleet-store.ts";
import type { DeviceKey, DeviceRecord } from "./store.ts";
import {
  fleetCounts,
  groupDue,
  groupSizes,
  groupTallies,
  renewalForecast,
} from "./fleet-queries.ts";
import { deviceHistory } from "./device-history.ts";
import { filterDevices } from "./device-pages.ts";
import { applyReadinessTx, markAllOfflineTx } from "./readiness-sql.ts";

/** {@link FleetStore} over a per-dialect {@link Driver}. */
export class SqlFleetStore implements FleetStore {
  /** Which engine the store speaks. */
  readonly dialect: Dialect;
  protected readonly sql: Query;

  constructor(protected readonly driver: Driver) {
    this.dialect = driver.dialect;
    this.sql = driver.query;
  }

  /** Runs a writing transaction (IMMEDIATE on SQLite, see {@link Driver.write}). */
  protected async write<T>(fn: (tx: Query) => Promise<T>): Promise<T> {
    return await this.driver.write(fn);
  }

  groupTallies(tenantId: string, select: GroupSelection): Promise<GroupTally[]> {
    return groupTallies(this.sql, tenantId, select);
  }

  groupDue(
    tenantId: string,
    now: number,
    overdueBefore: number,
    select: GroupSelection,
  ): Promise<GroupDue[]> {
    return groupDue(this.sql, tenantId, now, overdueBefore, select);
  }

  fleetCounts(tenantId: string, now: number, overdueBefore: number): Promise<FleetCounts> {
    return fleetCounts(this.sql, tenantId, now, overdueBefore);
  }

  groupSizes(tenantId: string): Promise<{ group: string; devices: number }[]> {
    return groupSizes(this.sql, tenantId);
  }

  renewalForecast(
    tenantId: string,
    group: string | undefined,
    fromHour: number,
    hours: number,
  ): Promise<number[]> {
    return renewalForecast(this.sql, tenantId, group, fromHour, hours);
  }

  filterDevices(
    tenantId: string,
    group: string,
    filter: DeviceFilter,
    order: DeviceOrder,
    limit: number,
    after?: DeviceAfter,
  ): Promise<DeviceRecord[]> {
    const tally = async () => (await this.groupTallies(tenantId, { names: [group] }))[0];
    return filterDevices(
      this.sql,
      this.dialect,
      tenantId,
      group,
      filter,
      order,
      limit,
      after,
      tally,
    );
  }

  deviceHistory(key: DeviceKey): Promise<DeviceEvent[]> {
    return deviceHistory(this.sql, key);
  }

  async applyReadiness(changes: ReadinessChange[]): Promise<number> {
    if (changes.length === 0) return 0;
    return await this.write((tx) => applyReadinessTx(tx, changes));
  }

  async markAllOffline(tenantId: string, now: number): Promise<number> {
    return await this.write((tx) => markAllOfflineTx(tx, tenantId, now));
  }

  async pruneForecast(beforeHour: number): Promise<void> {
    await this.sql`delete from renewal_hours where hour < ${beforeHour}`;
  }
}
