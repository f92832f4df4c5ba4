/** Group commit: every write waits for a sync that began after it, concurrent writes share syncs. */

import { REGISTERED } from "../../core/enrollment.ts";
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openStore } from "./sql-store.ts";
import {
  GroupCommit,
  durableStore,
  sqliteFileOf,
  walSync,
  withGroupCommit,
} from "./group-commit.ts";

const dir = mkdtempSync(join(tmpdir(), "iota-group-commit-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A sync whose completion the test controls, logging when each one starts and ends. */
function manualSync() {
  const log: string[] = [];
  const pending: (() => void)[] = [];
  const sync = () => {
    log.push("start");
    return new Promise<void>((done) =>
      pending.push(() => {
        log.push("end");
        done();
      }),
    );
  };
  return { log, sync, finishOne: () => pending.shift()?.() };
}

describe("GroupCommit", () => {
  test("a caller arriving during a sync waits for the next one, shared by all who arrived meanwhile", async () => {
    const m = manualSync();
    const commits = new GroupCommit(m.sync);
    const done: string[] = [];
    commits.sync().then(() => done.push("a"));
    await Bun.sleep(0);
    for (const name of ["b", "c", "d"]) commits.sync().then(() => done.push(name));
    expect(commits.syncs).toBe(1);
    m.finishOne();
    await Bun.sleep(0);
    expect(done).toEqual(["a"]);
    expect(commits.syncs).toBe(2);
    m.finishOne();
    await Bun.sleep(0);
    expect(done).toEqual(["a", "b", "c", "d"]);
    expect(m.log).toEqual(["start", "end", "start", "end"]);
  });

  test("a failed sync fails its callers and the next sync still runs", async () => {
    let fail = true;
    const commits = new GroupCommit(async () => {
      if (fail) throw new Error("disk gone");
    });
    await expect(commits.sync()).rejects.toThrow("disk gone");
    fail = false;
    await commits.sync();
    expect(commits.syncs).toBe(2);
  });
});

describe("withGroupCommit over the SQLite store", () => {
  test("writes answer after a sync, reads do not sync, and concurrent provisioning shares syncs", async () => {
    const path = join(dir, "iota.db");
    const inner = await openStore(`sqlite:${path}`);
    let synced = 0;
    const fsync = walSync(path);
    const commits = new GroupCommit(async () => {
      await fsync();
      synced++;
    });
    const store = withGroupCommit(inner, commits);
    await store.insertTenant({ id: "t", caCert: "x", caKeySealed: "y", createdAt: 1 });
    expect(synced).toBe(1);
    expect(existsSync(`${path}-wal`)).toBe(true);
    await store.insertGroup({
      tenantId: "t",
      name: "g",
      secretSealed: "s",
      validity: 60,
      grace: 60,
      createdAt: 1,
      secretRotatedAt: 1,
      ...REGISTERED,
    });
    const names = Array.from({ length: 200 }, (_, i) => `d-${i}`);
    await store.insertDevices("t", "g", names, 1);
    const before = synced;
    expect(await store.getDevice({ tenantId: "t", group: "g", name: "d-1" })).toBeDefined();
    expect(synced).toBe(before);
    const results = await Promise.all(
      names.map((name, i) =>
        store.recordProvisioned(
          { tenantId: "t", group: "g", name },
          {
            serial: `s${i}`,
            keyHash: `k${i}`,
            certificate: "c",
            notBefore: 0,
            notAfter: 10,
            issuedAt: 1,
          },
        ),
      ),
    );
    expect(results.every(Boolean)).toBe(true);
    expect(synced - before).toBeGreaterThanOrEqual(1);
    expect(synced - before).toBeLessThan(names.length);
    expect((await store.getDevice({ tenantId: "t", group: "g", name: "d-199" }))?.state).toBe(
      "provisioned",
    );
    expect(store.dialect).toBe("sqlite");
    await store.close();
  });

  test("only SQLite files get group commit", async () => {
    expect(sqliteFileOf("sqlite:/var/lib/iota/iota.db")).toBe("/var/lib/iota/iota.db");
    expect(sqliteFileOf("sqlite::memory:")).toBeUndefined();
    expect(sqliteFileOf("postgres://db/iota")).toBeUndefined();
    const memory = await openStore("sqlite::memory:");
    expect(durableStore(memory, "sqlite::memory:")).toBe(memory);
    await memory.close();
  });
});
