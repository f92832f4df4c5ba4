/** The SQLite driver: writes asked for together commit as one batch, each atomic on its own, answered once durable. */

import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { sqliteDriver, type Durability } from "./sqlite-driver.ts";
import type { Query } from "./sql-driver.ts";

const dir = mkdtempSync(join(tmpdir(), "iota-sqlite-driver-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/**
 * A driver on a fresh file with one table, and a durability that logs what happens when. Its syncs take
 * `syncMs`, or with `"held"` each one runs until the test calls `release(n)`: tests of ordering then wait
 * for events (`started(n)`), never for a time.
 */
async function fresh(syncMs: number | "held" = 5) {
  const path = join(dir, `d-${files++}.db`);
  const driver = sqliteDriver(path);
  await driver.query`PRAGMA journal_mode = WAL`;
  await driver.query`create table t (k text primary key, v integer not null)`;
  const log: string[] = [];
  /** What another connection sees when a sync starts: the sync must cover only committed rows. */
  const seen: unknown[] = [];
  let syncs = 0;
  const held = new Map<number, ReturnType<typeof Promise.withResolvers<void>>>();
  const hold = (n: number) => {
    let gate = held.get(n);
    if (!gate) {
      gate = Promise.withResolvers<void>();
      held.set(n, gate);
    }
    return gate;
  };
  const durability: Durability = {
    async sync() {
      const n = ++syncs;
      log.push(`sync ${n} start`);
      const other = new Database(path, { readonly: true });
      seen.push(other.query("select group_concat(k || '=' || v) as rows from t").get());
      other.close();
      if (syncMs === "held") await hold(n).promise;
      else await Bun.sleep(syncMs);
      log.push(`sync ${n} end`);
    },
  };
  /** Resolves once sync `n` has started (within 5 s). */
  const started = async (n: number) => {
    const deadline = Date.now() + 5_000;
    while (!log.includes(`sync ${n} start`)) {
      if (Date.now() > deadline) throw new Error(`sync ${n} never started; log: ${log.join(", ")}`);
      await Bun.sleep(1);
    }
  };
  /** Lets held sync `n` end. */
  const release = (n: number) => hold(n).resolve();
  return { path, driver, durability, log, seen, syncs: () => syncs, started, release };
}

/** Time for a wrong order to show: what must not happen yet would have happened by then. */
const settle = () => Bun.sleep(20);

describe("sqliteDriver", () => {
  test("concurrent writes commit in one batch; a failing one rolls back only itself", async () => {
    const { path, driver, durability, syncs } = await fresh();
    driver.useDurability?.(durability);
    const runs = new Array<number>(20).fill(0);
    const results = await Promise.allSettled(
      Array.from({ length: 20 }, (_, i) =>
        driver.write(async (tx) => {
          runs[i] = (runs[i] ?? 0) + 1;
          await tx`insert into t (k, v) values (${`k${i}`}, ${i})`;
          // Hint: job 7 changes a row, then fails; its change must not survive, the others' must.
          if (i === 7) {
            await tx`update t set v = 100 where k = ${"k0"}`;
            await tx`insert into t (k, v) values (${"k1"}, ${0})`;
          }
          return i;
        }),
      ),
    );
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(19);
    expect(results[7]?.status).toBe("rejected");
    expect(syncs()).toBe(1);
    // Hint: the batch ran once without savepoints up to the failure, then again with them; its rows count once.
    expect(runs.slice(0, 8)).toEqual(new Array(8).fill(2));
    expect(runs.slice(8)).toEqual(new Array(12).fill(1));
    const rows = await driver.query`select k, v from t order by v`;
    expect(rows).toHaveLength(19);
    expect(rows.find((r) => r.k === "k0")?.v).toBe(0);
    expect(rows.some((r) => r.k === "k7")).toBe(false);
    await driver.close();
    // An independent connection sees exactly the committed rows.
    const other = new Database(path, { readonly: true });
    expect(other.query("select count(*) as n from t").get()).toEqual({ n: 19 });
    other.close();
  });

  test("a batch where no write fails runs each write once; a write alone fails once", async () => {
    const { driver } = await fresh();
    let runs = 0;
    await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        driver.write(async (tx) => {
          runs++;
          await tx`insert into t (k, v) values (${`k${i}`}, ${i})`;
        }),
      ),
    );
    expect(runs).toBe(5);
    runs = 0;
    const alone = driver.write(async (tx) => {
      runs++;
      await tx`insert into t (k, v) values (${"k0"}, ${9})`;
    });
    await expect(alone).rejects.toThrow(/UNIQUE/);
    expect(runs).toBe(1);
    expect(await driver.query`select v from t where k = ${"k0"}`).toEqual([{ v: 0 }]);
    await driver.close();
  });

  test("changes gathered for the commit are written once per batch, in its transaction; a failing write's are not", async () => {
    const { path, driver, durability } = await fresh();
    driver.useDurability?.(durability);
    const KEY = Symbol("sum");
    let flushes = 0;
    /** Sums what the writes add and writes the sum once, as the store's counters do. */
    class Sum {
      total = 0;
      async flush(tx: Query) {
        flushes++;
        await tx`insert into t (k, v) values ('sum', ${this.total}) on conflict (k) do update set v = t.v + excluded.v`;
        this.total = 0;
      }
    }
    const batch = (fail: number) =>
      Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          driver.write(async (tx) => {
            const sum = tx.atCommit?.(KEY, () => new Sum());
            if (!sum) throw new Error("no atCommit inside a SQLite transaction");
            sum.total += 2 ** i;
            await tx`insert into t (k, v) values (${`k${i}`}, ${i})`;
            if (i === fail) throw new Error("this write fails");
          }),
        ),
      );
    const sum = async () => (await driver.query`select v from t where k = 'sum'`)[0]?.v;
    await batch(-1);
    expect(flushes).toBe(1);
    expect(await sum()).toBe(1023);
    await driver.query`delete from t`;
    flushes = 0;
    // Hint: the run without savepoints stops at the failure; the run with them writes each write's share on its own.
    const results = await batch(4);
    expect(results.map((r) => r.status)).toEqual(
      Array.from({ length: 10 }, (_, i) => (i === 4 ? "rejected" : "fulfilled")),
    );
    expect(await sum()).toBe(1023 - 16);
    expect(flushes).toBe(9);
    const other = new Database(path, { readonly: true });
    expect(other.query("select count(*) as n from t").get()).toEqual({ n: 10 });
    other.close();
    await driver.close();
  });

  test("writes answer after a sync that began after their commit; the next batch commits while that sync runs", async () => {
    const { driver, durability, log, seen, started, release } = await fresh("held");
    driver.useDurability?.(durability);
    const first = driver
      .write(async (tx) => tx`insert into t (k, v) values (${"a"}, ${1})`)
      .then(() => log.push("first answered"));
    await started(1);
    // Hint: asked while the first batch's sync runs, so these two share the next transaction and sync.
    const later = [
      driver.write(async (tx) => tx`insert into t (k, v) values (${"b"}, ${2})`),
      driver.write(async (tx) => tx`insert into t (k, v) values (${"c"}, ${3})`),
    ].map((p) => p.then(() => log.push("later answered")));
    // The second batch commits and starts its sync while the first sync still runs.
    await started(2);
    release(1);
    await first;
    await settle();
    // The first sync's end answers the first batch only: the later writes wait for their own sync.
    expect(log).not.toContain("later answered");
    release(2);
    await Promise.all(later);
    // Hint: this durability does not coalesce (GroupCommit does, and starts the second sync when the first ends).
    expect(log).toEqual([
      "sync 1 start",
      "sync 2 start",
      "sync 1 end",
      "first answered",
      "sync 2 end",
      "later answered",
      "later answered",
    ]);
    // Each sync began after the commits it answers: the first saw a, the second a, b and c.
    expect(seen).toEqual([{ rows: "a=1" }, { rows: "a=1,b=2,c=3" }]);
    await driver.close();
  });

  test("writes asked for once the next batch has committed wait for the running sync to end, then commit together", async () => {
    const { driver, durability, log, seen, started, release } = await fresh("held");
    driver.useDurability?.(durability);
    const insert = (k: string, v: number) =>
      driver.write(async (tx) => tx`insert into t (k, v) values (${k}, ${v})`);
    const writes = [insert("a", 1)];
    await started(1);
    // Hint: the second batch commits at once, while the first batch's sync runs.
    writes.push(insert("b", 2));
    await started(2);
    // Hint: these gather until the first sync ends, and then commit as one batch with one sync.
    writes.push(insert("c", 3), insert("d", 4));
    await settle();
    expect(log).toEqual(["sync 1 start", "sync 2 start"]);
    release(1);
    // The third batch starts its sync once the first has ended, while the second still runs.
    await started(3);
    expect(log).toEqual(["sync 1 start", "sync 2 start", "sync 1 end", "sync 3 start"]);
    release(2);
    release(3);
    await Promise.all(writes);
    expect(log.filter((l) => l.endsWith("start"))).toHaveLength(3);
    expect(seen).toEqual([{ rows: "a=1" }, { rows: "a=1,b=2" }, { rows: "a=1,b=2,c=3,d=4" }]);
    await driver.close();
  });

  test("close waits until the last batch's sync has answered its writers", async () => {
    const { driver, durability, log, started, release } = await fresh("held");
    driver.useDurability?.(durability);
    const write = driver
      .write(async (tx) => tx`insert into t (k, v) values (${"z"}, ${1})`)
      .then(() => log.push("answered"));
    await started(1);
    const closed = driver.close().then(() => log.push("closed"));
    await settle();
    expect(log).toEqual(["sync 1 start"]);
    release(1);
    await closed;
    await write;
    expect(log).toEqual(["sync 1 start", "sync 1 end", "answered", "closed"]);
  });

  test("a write outside a transaction waits for a sync, a read does not, and reads see this process's writes", async () => {
    const { path, driver, durability, log, seen } = await fresh();
    driver.useDurability?.(durability);
    await driver.query`insert into t (k, v) values (${"x"}, ${1})`;
    expect(log).toEqual(["sync 1 start", "sync 1 end"]);
    expect(await driver.query`select v from t where k = ${"x"}`).toEqual([{ v: 1 }]);
    // Hint: the read above opened this turn's snapshot; the write must end it, so the next read sees the write.
    await driver.query`update t set v = 2 where k = ${"x"}`;
    // Committed when it answers: another connection sees it.
    const other = new Database(path, { readonly: true });
    expect(other.query("select v from t where k = 'x'").get()).toEqual({ v: 2 });
    other.close();
    expect(await driver.query`select v from t where k = ${"x"}`).toEqual([{ v: 2 }]);
    await driver.write(async (tx) => tx`update t set v = 3 where k = ${"x"}`);
    expect(await driver.query`select v from t where k = ${"x"}`).toEqual([{ v: 3 }]);
    expect(log.filter((l) => l.endsWith("start"))).toHaveLength(3);
    expect(seen).toEqual([{ rows: "x=1" }, { rows: "x=2" }, { rows: "x=3" }]);
    await driver.close();
  });

  test("after a sync failed nothing is answered from the connection again, even once syncs succeed", async () => {
    const { driver } = await fresh();
    let failing = true;
    driver.useDurability?.({
      async sync() {
        // Hint: like fsync after a writeback error, the next one succeeds though the pages may be gone.
        if (failing) {
          failing = false;
          throw Object.assign(new Error("EIO: i/o error, fdatasync"), { code: "EIO" });
        }
      },
    });
    await expect(
      driver.write(async (tx) => await tx`insert into t (k, v) values ('a', 1)`),
    ).rejects.toMatchObject({ code: "IOTA_STORAGE_FAILED" });
    for (const later of [
      () => driver.write(async (tx) => await tx`insert into t (k, v) values ('b', 2)`),
      () => driver.query`select * from t`,
      () => driver.query`insert into t (k, v) values ('c', 3)`,
    ])
      await expect(later()).rejects.toMatchObject({
        code: "IOTA_STORAGE_FAILED",
        message: expect.stringContaining("EIO"),
      });
    await driver.close();
  });
});
