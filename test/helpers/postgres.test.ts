/** The PostgreSQL test helper: fresh, separate databases, on its own cluster or on a given server. */

import { expect, test } from "bun:test";
import { SQL } from "bun";
import { startTestPostgres } from "./postgres.ts";

async function databases(url: string): Promise<string[]> {
  const sql = new SQL(url, { max: 1 });
  try {
    return (
      await sql`select datname from pg_database where datname like 'iota_test_%' order by datname`
    ).map((r: { datname: string }) => r.datname);
  } finally {
    await sql.close();
  }
}

test("a throwaway cluster gives fresh databases, and IOTA_TEST_PG_URL mode drops only what it created", async () => {
  const own = await startTestPostgres({});
  try {
    const first = new SQL(own.url, { max: 1 });
    await first`create table marker (x integer)`;
    await first.close();
    const second = new SQL(await own.createDatabase(), { max: 1 });
    const [row] = await second`select count(*) as n from pg_tables where tablename = 'marker'`;
    expect(Number(row.n)).toBe(0);
    await second.close();

    const external = await startTestPostgres({ IOTA_TEST_PG_URL: own.url });
    const extra = await external.createDatabase();
    const names = await databases(own.url);
    expect(names).toContain(new URL(external.url).pathname.slice(1));
    expect(names).toContain(new URL(extra).pathname.slice(1));
    await external.stop();
    const after = await databases(own.url);
    expect(after).not.toContain(new URL(external.url).pathname.slice(1));
    expect(after).not.toContain(new URL(extra).pathname.slice(1));
    expect(after).toContain(new URL(own.url).pathname.slice(1));
  } finally {
    await own.stop();
  }
  // Hint: the cluster is gone once stopped: nothing listens on its port any more.
  const probe = new SQL(own.url, { max: 1, connectionTimeout: 5 });
  await expect(probe`select 1`).rejects.toThrow();
  await probe.close().catch(() => {});
}, 120_000);
