/**
 * The PostgreSQL driver's answer watch on a real database: a statement waiting on a lock past the deadline is
 * answered (the database answers the check), one the database cannot hear fails with IOTA_DATABASE_NO_ANSWER,
 * and a transaction whose statement got no answer is rolled back even when the database hears it later.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { SQL } from "bun";
import { settleWithin } from "../../src/core/deadline.ts";
import { DATABASE_NO_ANSWER } from "../../src/iota-server/store/answer-watch.ts";
import { postgresDriver, type Driver } from "../../src/iota-server/store/sql-driver.ts";
import { startPgRelay, type PgRelay } from "../helpers/pg-relay.ts";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.ts";

let pg: TestPostgres | undefined;
beforeAll(async () => {
  pg = await startTestPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
});

/** A database with the table `t (v text)`, a direct client, and the driver reaching it through a relay. */
async function setUp(): Promise<{
  direct: SQL;
  link: PgRelay;
  driver: Driver;
  done(): Promise<void>;
}> {
  if (!pg) throw new Error("PostgreSQL did not start (see the beforeAll error above)");
  const url = await pg.createDatabase();
  const direct = new SQL(url, { max: 2 });
  await direct`create table t (v text)`;
  const link = await startPgRelay(url);
  const driver = postgresDriver(link.url);
  // Hint: short limits, so the waits stay far from the test's time limit on a loaded machine.
  driver.watchAnswers?.(500, 2_000);
  const done = async () => {
    await link.cut();
    await Promise.all([driver.close(), direct.close()]);
  };
  return { direct, link, driver, done };
}

/** The code `work` rejects with, or "answered" / "no outcome within 30 s". */
async function outcome(work: Promise<unknown>): Promise<string> {
  try {
    return await settleWithin(
      work.then(() => "answered"),
      30_000,
      () => "no outcome within 30 s",
    );
  } catch (error) {
    return String((error as { code?: unknown }).code ?? error);
  }
}

test("a statement waiting on a lock well past the deadline is answered: the database answers the check", async () => {
  const { direct, driver, done } = await setUp();
  try {
    await direct`insert into t values ('a')`;
    const locker = await direct.reserve();
    await locker`begin`;
    await locker`lock table t in access exclusive mode`;
    let settled = false;
    const reading = driver.query`select count(*)::int as n from t`.finally(() => {
      settled = true;
    });
    await Bun.sleep(3_000);
    expect(settled).toBe(false);
    await locker`commit`;
    locker.release();
    expect(await reading).toEqual([{ n: 1 }]);
  } finally {
    await done();
  }
}, 60_000);

test("a database cut off by the network: IOTA_DATABASE_NO_ANSWER, and answers again once it is back", async () => {
  const { driver, link, done } = await setUp();
  try {
    expect(await driver.query`select 1 as one`).toEqual([{ one: 1 }]);
    link.freeze();
    expect(await outcome(driver.query`select 2 as two`)).toBe(DATABASE_NO_ANSWER);
    expect(await outcome(driver.write(async (tx) => tx`insert into t values ('x')`))).toBe(
      DATABASE_NO_ANSWER,
    );
    await link.cut();
    await link.open();
    let back: unknown;
    for (let i = 0; i < 100 && back === undefined; i++)
      back = await driver.query`select 3 as three`.catch(() => Bun.sleep(100));
    expect(back).toEqual([{ three: 3 }]);
  } finally {
    await done();
  }
}, 60_000);

test("a transaction whose statement got no answer is rolled back, though the database hears it late", async () => {
  const { direct, driver, link, done } = await setUp();
  try {
    const writing = driver.write(async (tx) => {
      await tx`insert into t values ('first')`;
      link.hold();
      await tx`insert into t values ('second')`;
      return "committed";
    });
    expect(await outcome(writing)).toBe(DATABASE_NO_ANSWER);
    // The database now hears the second insert, and then the rollback.
    link.release();
    const busy = async () =>
      (
        await direct`select count(*)::int as n from pg_stat_activity
          where datname = current_database() and state like 'idle in transaction%'`
      )[0].n as number;
    for (let i = 0; i < 100 && (await busy()) > 0; i++) await Bun.sleep(100);
    expect(await busy()).toBe(0);
    expect(await direct`select v from t order by v`).toEqual([]);
    // The driver writes again over the same relay.
    await driver.write(async (tx) => tx`insert into t values ('after')`);
    expect(await direct`select v from t order by v`).toEqual([{ v: "after" }]);
  } finally {
    await done();
  }
}, 60_000);
