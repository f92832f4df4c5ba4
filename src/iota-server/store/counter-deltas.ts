/**
 * The fleet counters' changes gathered over a transaction and written once, just before it commits: on SQLite a
 * group-commit batch of provisionings moves the counters with one statement per counter table, not two per write.
 */

import type { AtCommit, Query } from "./sql-driver.ts";
import type { Tally } from "./tally-sql.ts";

/** The key of the counter changes among a transaction's {@link AtCommit} work. */
const COUNTERS = Symbol("fleet counters");

/** A `group_tallies` change: tenant, group, state, readiness, devices added. */
type TallyRow = [string, string, string, string, number];

/** A `renewal_hours` change: tenant, group ('' for the whole tenant), hour, renewals added. */
type RenewalRow = [string, string, number, number];

/** Changes to the counters of tally-sql.ts, summed per counter row. */
export class CounterDeltas implements AtCommit {
  private readonly tallies = new Map<string, TallyRow>();
  private readonly renewals = new Map<string, RenewalRow>();

  /** Adds `n` devices at `at` in `group` (negative removes them). */
  tally(tenantId: string, group: string, at: Tally, n: number): void {
    const key = `${tenantId}\u0000${group}\u0000${at.state}\u0000${at.readiness}`;
    const row = this.tallies.get(key);
    if (row) row[4] += n;
    else this.tallies.set(key, [tenantId, group, at.state, at.readiness, n]);
  }

  /** Adds `n` renewals at `hour` to the group's and the tenant's forecast. */
  renewal(tenantId: string, group: string, hour: number, n: number): void {
    for (const name of ["", group]) {
      const key = `${tenantId}\u0000${name}\u0000${hour}`;
      const row = this.renewals.get(key);
      if (row) row[3] += n;
      else this.renewals.set(key, [tenantId, name, hour, n]);
    }
  }

  /**
   * Writes the changes and forgets them. Hint: SQLite only (see Query.atCommit): each table's rows go in one
   * upsert that reads them from a JSON array, a statement prepared once whatever the number of rows.
   */
  async flush(tx: Query): Promise<void> {
    const renewals = [...this.renewals.values()].filter((row) => row[3] !== 0);
    const tallies = [...this.tallies.values()].filter((row) => row[4] !== 0);
    this.renewals.clear();
    this.tallies.clear();
    // Hint: `where true` tells SQLite's parser that `on conflict` belongs to the insert, not to a join.
    if (renewals.length > 0)
      await tx`insert into renewal_hours (tenant_id, group_name, hour, n)
        select value ->> 0, value ->> 1, value ->> 2, value ->> 3 from json_each(${JSON.stringify(renewals)}) where true
        on conflict (tenant_id, group_name, hour) do update set n = renewal_hours.n + excluded.n`;
    if (tallies.length > 0)
      await tx`insert into group_tallies (tenant_id, group_name, state, readiness, n)
        select value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4 from json_each(${JSON.stringify(tallies)}) where true
        on conflict (tenant_id, group_name, state, readiness) do update set n = group_tallies.n + excluded.n`;
  }
}

/**
 * The counter changes `tx` gathers for its commit; undefined where each write moves the counters at once
 * (PostgreSQL: its writers take the shared counter rows in the store's lock order as they go).
 */
export function counterDeltas(tx: Query): CounterDeltas | undefined {
  return tx.atCommit?.(COUNTERS, () => new CounterDeltas());
}
