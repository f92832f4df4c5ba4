/** Device rows written inside the caller's transaction, shared by bulk creation and enrollment. */

import type { Query } from "./sql-driver.ts";

/** Rows per INSERT in bulk creation: well under SQLite's 32,766 bound parameters. */
const INSERT_CHUNK = 5000;

/** Inserts devices (names sorted and unique) as `created`; returns the names that were new. */
export async function insertDevicesTx(
  tx: Query,
  tenantId: string,
  group: string,
  sorted: string[],
  now: number,
): Promise<Set<string>> {
  const created = new Set<string>();
  for (let i = 0; i < sorted.length; i += INSERT_CHUNK) {
    const params: unknown[] = [];
    const tuples = sorted.slice(i, i + INSERT_CHUNK).map((name) => {
      const n = params.push(tenantId, group, name, "created", now);
      return `($${n - 4}, $${n - 3}, $${n - 2}, $${n - 1}, $${n})`;
    });
    const inserted = await tx.unsafe(
      `insert into devices (tenant_id, group_name, name, state, created_at) values ${tuples.join(", ")} on conflict do nothing returning name`,
      params,
    );
    for (const row of inserted) created.add(String(row.name));
  }
  return created;
}
