/**
 * The master key as an operator meets it: a restored backup or a second replica without the key the database
 * was created with stops the start (exit 3) saying so, and writes no key that could never open it; the files of
 * a database, master key and admin token restored as copies others may read (0644) are set to 0600.
 */

import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runServerToExit, startServerProcess } from "./helpers/server-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iota-master-key-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs iota-server on `data` to its end (it must not start). */
function start(data: string, env: Record<string, string> = {}) {
  return runServerToExit(["--data", data, "--listen", "127.0.0.1:0"], env);
}

test("a restored database needs its master key: without it, or with another, the start stops with exit 3", async () => {
  const original = join(tmp, "original");
  const first = await startServerProcess({ tls: true, data: original });
  await first.stop();
  // A backup restored in a new folder, without master.key.
  const restored = join(tmp, "restored");
  mkdirSync(restored, { mode: 0o700 });
  const backup = spawnSync("sqlite3", [
    join(original, "iota.db"),
    `.backup ${join(restored, "iota.db")}`,
  ]);
  expect(backup.status).toBe(0);
  const missing = start(restored);
  expect(missing.stderr).toContain(
    `${join(restored, "master.key")} is missing, and the database already holds keys sealed with a master key`,
  );
  expect(missing.status).toBe(3);
  expect(existsSync(join(restored, "master.key"))).toBe(false);
  // Another key, from the environment as replicas take it.
  const wrong = start(restored, { IOTA_MASTER_KEY: "ab".repeat(32) });
  expect(wrong.stderr).toContain(
    "the master key from IOTA_MASTER_KEY does not open the keys sealed in the database",
  );
  expect(wrong.stderr).not.toContain("Unsupported state");
  expect(wrong.status).toBe(3);
  // With its own key the restored copy starts, and its files are no longer readable by others.
  copyFileSync(join(original, "master.key"), join(restored, "master.key"));
  for (const name of ["iota.db", "master.key"]) chmodSync(join(restored, name), 0o644);
  const back = await startServerProcess({ tls: true, data: restored });
  try {
    for (const name of ["iota.db", "master.key"]) {
      expect(back.output()).toContain(
        `${join(restored, name)} (was 0644): others could read it; set to 0600`,
      );
      expect(statSync(join(restored, name)).mode & 0o777).toBe(0o600);
    }
    // The admin token was not restored: the start says where it is and how to get a new one.
    expect(back.output()).toContain(
      `admin token: not in this data folder; it was written where the tenant was created (another replica, or the folder a restored database came from); \`iota-server rotate-admin-token --data ${restored}\` writes a new one here`,
    );
  } finally {
    await back.stop();
  }
  // Its admin token copied in later, readable by others: set to 0600 at the next start.
  copyFileSync(join(original, "admin-token"), join(restored, "admin-token"));
  chmodSync(join(restored, "admin-token"), 0o644);
  const again = await startServerProcess({ tls: true, data: restored });
  try {
    expect(again.output()).toContain(
      `${join(restored, "admin-token")} (was 0644): others could read it; set to 0600`,
    );
    expect(statSync(join(restored, "admin-token")).mode & 0o777).toBe(0o600);
    expect((await again.fetch("/v1/ca")).status).toBe(200);
  } finally {
    await again.stop();
  }
}, 120_000);
