/**
 * The fleet counters in SQL, inside the caller's transaction: devices per group by state and readiness
 * (`group_tallies`) and provisioned devices per planned renewal hour (`renewal_hours`, per group and, under the
 * group name '', for the whole tenant). Every write that changes a device's state, readiness or renewal moves
 * them in the same transaction, so the fleet summary reads a few rows instead of counting a million.
 *
 * On SQLite the changes of a whole group-commit batch are summed in memory and written once before it commits
 * (counter-deltas.ts), in the same transaction as the device rows.
 *
 * Lock order (PostgreSQL): these shared rows are taken after the device's own rows and before the tenant row,
 * `renewal_hours` before `group_tallies`, and within a table in key order, so concurrent writers wait for each
 * other instead of deadlocking.
 */

import type { DeviceState } from "../../core/wire.ts";
import { DEFAULT_RENEWAL_POLICY, renewalTime, serialRandom } from "../../core/renewal.ts";
import type { DeviceKey, Issuance } from "./store.ts";
import type { Readiness } from "./fleet-store.ts";
import type { Query } from "./sql-driver.ts";
import { num } from "./rows.ts";
import { counterDeltas } from "./counter-deltas.ts";

/** One hour in milliseconds: the bucket of the renewal counters. */
export const HOUR_MS = 3_600_000;

/** The hour (since the epoch) an instant falls in. */
export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS);

/** The readiness an `online` column value stands for. */
export function readinessOf(online: unknown): Readiness {
  if (online === null || online === undefined) return "unseen";
  return num(online) === 1 ? "online" : "offline";
}

/** The planned renewal of a newly recorded certificate: the same instant the service answers and iotad computes. */
export function plannedRenewal(issuance: Issuance, first: boolean): number {
  return renewalTime(
    { notBefore: issuance.notBefore, notAfter: issuance.notAfter },
    DEFAULT_RENEWAL_POLICY,
    serialRandom(issuance.serial),
    first,
  );
}

/** A device's place in the counters. */
export interface Tally {
  state: DeviceState;
  readiness: Readiness;
}

/** Adds `n` to one counter. */
async function addTally(
  tx: Query,
  tenantId: string,
  group: string,
  at: Tally,
  n: number,
): Promise<void> {
  await tx`insert into group_tallies (tenant_id, group_name, state, readiness, n)
    values (${tenantId}, ${group}, ${at.state}, ${at.readiness}, ${n})
    on conflict (tenant_id, group_name, state, readiness) do update set n = group_tallies.n + excluded.n`;
}

/** Moves one device of `group` from one counter to another (nothing when they are the same). */
export async function moveTally(
  tx: Query,
  tenantId: string,
  group: string,
  from: Tally,
  to: Tally,
): Promise<void> {
  if (from.state === to.state && from.readiness === to.readiness) return;
  const deltas = counterDeltas(tx);
  if (deltas) {
    deltas.tally(tenantId, group, from, -1);
    deltas.tally(tenantId, group, to, 1);
    return;
  }
  const [first, second] =
    `${from.state}/${from.readiness}` < `${to.state}/${to.readiness}`
      ? [
          { ...from, n: -1 },
          { ...to, n: 1 },
        ]
      : [
          { ...to, n: 1 },
          { ...from, n: -1 },
        ];
  await tx`insert into group_tallies (tenant_id, group_name, state, readiness, n)
    values (${tenantId}, ${group}, ${first.state}, ${first.readiness}, ${first.n}),
           (${tenantId}, ${group}, ${second.state}, ${second.readiness}, ${second.n})
    on conflict (tenant_id, group_name, state, readiness) do update set n = group_tallies.n + excluded.n`;
}

/** Counter changes gathered over many devices, written once each in key order. */
export class TallyBatch {
  private readonly deltas = new Map<string, { group: string; at: Tally; n: number }>();

  /** Adds `n` devices at `at` in `group` (negative removes them). */
  add(group: string, at: Tally, n: number): void {
    const key = `${group}\u0000${at.state}\u0000${at.readiness}`;
    const entry = this.deltas.get(key) ?? { group, at, n: 0 };
    entry.n += n;
    this.deltas.set(key, entry);
  }

  /** Moves one device between counters. */
  move(group: string, from: Tally, to: Tally): void {
    this.add(group, from, -1);
    this.add(group, to, 1);
  }

  /** Writes the changes of `tenantId`. */
  async apply(tx: Query, tenantId: string): Promise<void> {
    const deltas = counterDeltas(tx);
    const keys = [...this.deltas.keys()].sort();
    for (const key of keys) {
      const entry = this.deltas.get(key);
      if (!entry || entry.n === 0) continue;
      if (deltas) deltas.tally(tenantId, entry.group, entry.at, entry.n);
      else await addTally(tx, tenantId, entry.group, entry.at, entry.n);
    }
    this.deltas.clear();
  }
}

/** Adds `n` renewals at `hour` to the group's and the tenant's forecast counters. */
export async function addRenewal(
  tx: Query,
  tenantId: string,
  group: string,
  hour: number,
  n: number,
): Promise<void> {
  const deltas = counterDeltas(tx);
  if (deltas) return deltas.renewal(tenantId, group, hour, n);
  // Hint: '' (the tenant row) sorts before every group name, so both rows are locked in key order.
  await tx`insert into renewal_hours (tenant_id, group_name, hour, n)
    values (${tenantId}, '', ${hour}, ${n}), (${tenantId}, ${group}, ${hour}, ${n})
    on conflict (tenant_id, group_name, hour) do update set n = renewal_hours.n + excluded.n`;
}

/** Moves one planned renewal of `group` from hour `from` to hour `to`. */
export async function moveRenewal(
  tx: Query,
  tenantId: string,
  group: string,
  from: number,
  to: number,
): Promise<void> {
  if (from === to) return;
  const deltas = counterDeltas(tx);
  if (deltas) {
    deltas.renewal(tenantId, group, from, -1);
    deltas.renewal(tenantId, group, to, 1);
    return;
  }
  const [a, b] = from < to ? [from, to] : [to, from];
  const [na, nb] = from < to ? [-1, 1] : [1, -1];
  await tx`insert into renewal_hours (tenant_id, group_name, hour, n)
    values (${tenantId}, '', ${a}, ${na}), (${tenantId}, '', ${b}, ${nb}),
           (${tenantId}, ${group}, ${a}, ${na}), (${tenantId}, ${group}, ${b}, ${nb})
    on conflict (tenant_id, group_name, hour) do update set n = renewal_hours.n + excluded.n`;
}

/** Records an operator's action on a device for its history. */
export async function recordEvent(
  tx: Query,
  k: DeviceKey,
  at: number,
  event: "revoked" | "reset",
  serial: string | null,
): Promise<void> {
  await tx`insert into device_events (tenant_id, group_name, device, at, event, serial)
    values (${k.tenantId}, ${k.group}, ${k.name}, ${at}, ${event}, ${serial})`;
}
