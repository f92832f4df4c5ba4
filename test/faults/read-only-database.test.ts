/**
 * A database the service's user may read but not write (a restore done as another user, a chmod): SQLite would
 * open it read-only without a word and the service would start and fail every write; it stops at start (exit 3)
 * naming the file instead. Runs iota-server as user nobody, so it needs root (as in CI).
 */

import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUN, ROOT, startServerProcess } from "../helpers/server-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iota-ro-db-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

test("a database file its user cannot write stops the start with exit 3 naming it", async () => {
  if (process.getuid?.() !== 0)
    throw new Error("this test runs iota-server as another user and must run as root (as CI does)");
  const data = join(tmp, "data");
  const first = await startServerProcess({ tls: true, data });
  await first.stop();
  // The folder and its files handed to nobody, the database read-only for it.
  chmodSync(tmp, 0o755);
  for (const path of [data, ...readdirSync(data).map((name) => join(data, name))])
    chownSync(path, 65534, 65534);
  chmodSync(join(data, "iota.db"), 0o400);
  const asNobody = spawnSync(
    "setpriv",
    [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      BUN,
      join(ROOT, "src/iota-server/main.ts"),
      "--data",
      data,
      "--listen",
      "127.0.0.1:0",
    ],
    { encoding: "utf8", timeout: 60_000, env: { ...process.env, HOME: tmp } },
  );
  expect(asNobody.stderr).toContain(
    `${join(data, "iota.db")} cannot be written by the user running iota-server`,
  );
  expect(asNobody.status).toBe(3);
}, 120_000);
