/**
 * An older iota-server started on a database a newer one migrated (an upgrade rolled back by reinstalling the old
 * package) stops with exit 3 naming both schema versions, and changes nothing: an older version would write
 * devices without what later migrations keep in step with them, and the fleet's counts would silently drift.
 */

import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { MIGRATIONS } from "../src/iota-server/store/migrations.ts";
import { runServerToExit, startServerProcess } from "./helpers/server-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iota-downgrade-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test("a database migrated past the newest schema this version knows is refused at start, untouched", async () => {
  const data = join(tmp, "data");
  const first = await startServerProcess({ tls: true, data });
  await first.admin("POST", "/v1/groups", { name: "g" }, 201);
  await first.stop();
  const known = Math.max(...MIGRATIONS.map((m) => m.version));
  // What a newer release leaves: one more migration applied, and a table of its own.
  const db = new Database(join(data, "iota.db"));
  db.run(
    `insert into schema_migrations (version, description, applied_at) values (${known + 1}, 'a later release', 0)`,
  );
  db.run("create table later_release (id integer primary key)");
  db.close();
  const before = spawnSync("sqlite3", [join(data, "iota.db"), ".dump"], { encoding: "utf8" });

  const older = runServerToExit(["--data", data, "--listen", "127.0.0.1:0"]);
  expect(older.stderr).toContain(
    `a newer iota-server migrated it to schema ${known + 1}; this version knows schema ${known} at most`,
  );
  expect(older.status).toBe(3);
  const after = spawnSync("sqlite3", [join(data, "iota.db"), ".dump"], { encoding: "utf8" });
  expect(after.stdout).toBe(before.stdout);
}, 120_000);
