/**
 * The database removed under a running iota-server (`rm iota.db*`, a cleanup script): the service answers 503
 * from the first write on, never a certificate that only the deleted file holds, and says why; a restart does not
 * start a new CA over the folder (exit 3, naming what is missing); with the backup put back, devices renew.
 */

import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  runServerToExit,
  startServerProcess,
  type ServerProcess,
} from "../helpers/server-process.ts";
import {
  inParallel,
  provisionOver,
  renewOver,
  type HeldIdentity,
} from "../helpers/device-client.ts";

const tmp = mkdtempSync(join(tmpdir(), "iota-db-removed-"));
let server: ServerProcess | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test("a database removed under the running service: 503s, no new CA at restart, the backup brings it back", async () => {
  const data = join(tmp, "data");
  server = await startServerProcess({ tls: true, data, args: ["--issue-rate", "0"] });
  const s = server;
  const secret = String(
    (await s.admin("POST", "/v1/groups", { name: "g" }, 201)).provisioningSecret,
  );
  const names = Array.from({ length: 60 }, (_, i) => `dev-${i}`);
  await s.admin("POST", "/v1/groups/g/devices", { names }, 200);
  const held: HeldIdentity[] = [];
  await inParallel(names.slice(0, 20), 8, async (name) => {
    const { answer, held: got } = await provisionOver(s, "g", name, secret);
    expect(answer.status).toBe(201);
    if (got) held.push(got);
  });
  const backup = join(tmp, "backup.db");
  const copy = spawnSync("sqlite3", [join(data, "iota.db"), `.backup ${backup}`]);
  expect(copy.status).toBe(0);

  for (const suffix of ["", "-wal", "-shm"])
    rmSync(join(data, `iota.db${suffix}`), { force: true });
  // Nothing issued after the removal is answered: the first write and every request after it get a 503.
  const after = await Promise.all(
    names.slice(20, 30).map(async (name) => (await provisionOver(s, "g", name, secret)).answer),
  );
  for (const answer of after) {
    expect(answer.status).toBe(503);
    expect(answer.type).toBe("application/problem+json");
  }
  expect((await renewOver(s, held[0] as HeldIdentity)).answer.status).toBe(503);
  expect((await s.adminCall("GET", "/v1/groups/g")).status).toBe(503);
  expect(s.output()).toContain(`${join(data, "iota.db-wal")} was removed while iota-server ran`);
  expect(s.output()).not.toContain("internal error");
  await s.stop();
  server = undefined;

  // A restart refuses to put a new CA in the folder, and creates no database.
  const restart = runServerToExit(["--data", data, "--listen", "127.0.0.1:0"]);
  expect(restart.status).toBe(3);
  expect(restart.stderr).toContain(
    `${join(data, "iota.db")} holds no CA, but ${data} holds the server-ca.pem and admin-token of a service that ran with a database`,
  );
  expect(existsSync(join(data, "iota.db"))).toBe(false);

  // The backup put back: the devices it knows renew.
  copyFileSync(backup, join(data, "iota.db"));
  server = await startServerProcess({ tls: true, data });
  const back = server;
  await inParallel(held, 8, async (identity) => {
    expect((await renewOver(back, identity)).answer.status).toBe(201);
  });
}, 180_000);
