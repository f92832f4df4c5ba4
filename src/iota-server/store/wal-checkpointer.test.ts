/** WAL checkpoints on a worker: the service's connection never checkpoints, the WAL still reaches the database file. */

import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, existsSync, mkdtempSync, openSync, readSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sqliteDriver } from "./sqlite-driver.ts";
import { GroupCommit, walSync } from "./group-commit.ts";
import { WalCheckpointer, type CheckpointerOptions } from "./wal-checkpointer.ts";

const dir = mkdtempSync(join(tmpdir(), "iota-wal-checkpointer-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;

/** A durable driver on a fresh WAL database with one table, checkpointed by a worker. */
async function fresh(options: CheckpointerOptions = {}) {
  const path = join(dir, `c-${files++}.db`);
  const driver = sqliteDriver(path);
  await driver.query`PRAGMA journal_mode = WAL`;
  await driver.query`create table t (k integer primary key, v text not null)`;
  const sync = walSync(path, { intervalMs: 10, ...options });
  driver.useDurability?.(new GroupCommit(sync));
  const checkpointer = sync.checkpointer as WalCheckpointer;
  let next = 0;
  /** Commits `rows` rows of 1 KB each, in one durable write. */
  const write = async (rows: number) =>
    await driver.write(async (tx) => {
      for (let i = 0; i < rows; i++)
        await tx`insert into t (k, v) values (${next++}, ${"x".repeat(1000)})`;
    });
  return { path, driver, checkpointer, write };
}

/** Waits until `done` holds, up to 10 s. */
async function until(done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await Bun.sleep(10);
  }
}

const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);

describe("WalCheckpointer", () => {
  test("the service's connection does not checkpoint; the worker copies what was synced into the database file", async () => {
    const { path, driver, checkpointer, write } = await fresh();
    try {
      const [row] = await driver.query`PRAGMA wal_autocheckpoint`;
      expect(Object.values(row ?? {})).toEqual([0]);
      await write(4000);
      // Hint: ~4 MB of rows; SQLite alone would leave them in the WAL with its automatic checkpoint off.
      await until(() => checkpointer.checkpoints > 0 && size(path) > 3_000_000);
      const result = await checkpointer.checkpoint();
      expect(result?.busy).toBe(0);
      expect(result?.copied).toBe(result?.frames ?? -1);
    } finally {
      await driver.close();
    }
  });

  test("the WAL is written from its start again once checkpointed, so it stays the size of one burst", async () => {
    const { path, driver, checkpointer, write } = await fresh();
    try {
      for (let round = 0; round < 6; round++) {
        const before = checkpointer.checkpoints;
        await write(1000);
        await until(() => checkpointer.checkpoints > before);
        await checkpointer.checkpoint();
      }
      // Hint: six bursts of ~1 MB: a WAL never restarted would hold all six.
      expect(size(path)).toBeGreaterThan(5_000_000);
      expect(size(`${path}-wal`)).toBeLessThan(size(path) / 3);
    } finally {
      await driver.close();
    }
  });

  /**
   * How many times the WAL was written from its start again: SQLite adds one to the checkpoint sequence number in
   * its header (bytes 12-15, big-endian) at each restart.
   */
  function walRestarts(path: string): number {
    const fd = openSync(`${path}-wal`, "r");
    try {
      const header = Buffer.alloc(16);
      readSync(fd, header, 0, 16, 0);
      return header.readUInt32BE(12);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * 64 writers, each committing one 1 KB row after another, 12,000 rows in all (~13 MB of WAL frames); the largest
   * WAL seen while they write, and the WAL's restarts meanwhile.
   */
  async function steadyLoad(options: CheckpointerOptions) {
    const { path, driver, checkpointer, write } = await fresh(options);
    let largest = 0;
    try {
      await write(1);
      const restartsBefore = walRestarts(path);
      let left = 12_000;
      await Promise.all(
        Array.from({ length: 64 }, async () => {
          while (left-- > 0) {
            await write(1);
            largest = Math.max(largest, size(`${path}-wal`));
          }
        }),
      );
      return {
        largest,
        restarts: walRestarts(path) - restartsBefore,
        emptied: checkpointer.emptied,
      };
    } finally {
      await driver.close();
    }
  }

  test("a commit after the WAL passed its bound waits for a checkpoint of everything, and starts the WAL over", async () => {
    // Hint: checkpoints after commits are a minute apart here, so the WAL keeps frames that no checkpoint copied.
    const { path, driver, checkpointer, write } = await fresh({
      maxWalFrames: 100,
      intervalMs: 60_000,
    });
    try {
      await write(2000);
      const counted = await checkpointer.checkpoint();
      expect(counted?.frames).toBeGreaterThan(100);
      // Hint: a statement outside a batch does not wait for the bound; its frames are the ones no checkpoint copied.
      await driver.query`insert into t (k, v) values (${-1}, ${"x".repeat(1000)})`;
      const restarts = walRestarts(path);
      expect(checkpointer.overBound()).toBe(true);
      // Hint: without the wait this commit would append to the WAL, since the checkpoint did not copy its last frames.
      await write(10);
      expect(checkpointer.emptied).toBe(1);
      expect(walRestarts(path)).toBe(restarts + 1);
      expect(checkpointer.overBound()).toBe(false);
      await write(10);
      expect(walRestarts(path)).toBe(restarts + 1);
    } finally {
      await driver.close();
    }
  });

  test("under a steady stream of commits the WAL stays within its bound", async () => {
    // Hint: 250 frames of 4 KiB, ~1 MB; checked at each batch once a checkpoint has counted the frames.
    const { largest, restarts, emptied } = await steadyLoad({
      maxWalFrames: 250,
      emptyIntervalMs: 0,
    });
    expect(emptied).toBeGreaterThan(0);
    expect(restarts).toBeGreaterThan(0);
    expect(largest).toBeLessThan(3_000_000);
  });

  test("closing the store closes the worker's connection first, so the last connection removes the WAL", async () => {
    const { path, driver, checkpointer, write } = await fresh();
    await write(100);
    await until(() => checkpointer.checkpoints > 0);
    expect(existsSync(`${path}-wal`)).toBe(true);
    await driver.close();
    expect(existsSync(`${path}-wal`)).toBe(false);
  });

  test("an idle checkpointer does not keep a process alive; one asked for a checkpoint does until it answers", async () => {
    const { path, driver } = await fresh();
    await driver.close();
    const script = `
      import { WalCheckpointer } from ${JSON.stringify(join(import.meta.dir, "wal-checkpointer.ts"))};
      const checkpointer = new WalCheckpointer(${JSON.stringify(path)});
      const first = await checkpointer.checkpoint();
      console.log("first", first?.busy);
      checkpointer.checkpoint().then((r) => console.log("second", r?.busy));
    `;
    const run = Bun.spawn([process.execPath, "-e", script], { stdout: "pipe", stderr: "pipe" });
    const timer = setTimeout(() => run.kill(), 10_000);
    const [out, code] = await Promise.all([new Response(run.stdout).text(), run.exited]);
    clearTimeout(timer);
    expect(run.signalCode).toBeNull();
    expect(code).toBe(0);
    expect(out).toBe("first 0\nsecond 0\n");
  });

  test("a checkpoint that fails is reported by name, and the next one tries again", async () => {
    const problems: string[] = [];
    const missing = join(dir, "no-such-folder", "iota.db");
    const checkpointer = new WalCheckpointer(missing, { onProblem: (m) => problems.push(m) });
    try {
      expect(await checkpointer.checkpoint()).toBeUndefined();
      expect(await checkpointer.checkpoint()).toBeUndefined();
      expect(problems).toHaveLength(2);
      expect(problems[0]).toStartWith("WAL checkpoint failed: ");
      expect(problems[0]).toMatch(/unable to open|no such file/i);
    } finally {
      await checkpointer.close();
    }
  });
});
