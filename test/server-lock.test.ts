/**
 * One iota-server per data folder and per SQLite file: a second one started beside a running one exits 3 naming
 * the running one, having changed nothing; a clean stop frees the folder, and a lock left by a killed server is
 * taken over at the next start. Real server processes.
 */

import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runServerToExit, startServerProcess } from "./helpers/server-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iota-server-lock-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs iota-server to its end (it must not start); its exit status and output. */
function runServer(...args: string[]) {
  const run = runServerToExit(["--listen", "127.0.0.1:0", ...args]);
  return { status: run.status, out: `${run.stdout}${run.stderr}` };
}

/** What a data folder holds, to see that a refused start changed nothing. */
function snapshot(dir: string): Record<string, string> {
  const files: Record<string, string> = {};
  for (const name of ["admin-token", "master.key", "server-ca.pem", "iota-server.lock"])
    files[name] = readFileSync(join(dir, name), "utf8");
  return files;
}

test("a second server on the data folder of a running one exits 3 naming it, and changes nothing", async () => {
  const data = join(tmp, "shared");
  const first = await startServerProcess({ tls: true, data });
  try {
    const lock = join(data, "iota-server.lock");
    expect(statSync(lock).mode & 0o777).toBe(0o600);
    const record = JSON.parse(readFileSync(lock, "utf8"));
    expect(record.pid).toBe(first.proc.pid);
    expect(record.command).toContain(`--data ${data}`);
    const before = snapshot(data);

    const second = runServer("--data", data);
    expect(second.status).toBe(3);
    expect(second.out).toContain(
      `data folder ${data} is in use by another iota-server, pid ${first.proc.pid} (iota-server --data ${data} `,
    );
    expect(second.out).toContain("stop that one first");
    expect(second.out).not.toContain("listening on");
    expect(snapshot(data)).toEqual(before);
    // The running server still serves, with the same admin token.
    expect((await first.adminCall("GET", "/v1/groups")).status).toBe(200);
  } finally {
    await first.stop();
  }
  // A clean stop removes the lock; the next server starts at once, without taking anything over.
  expect(existsSync(join(data, "iota-server.lock"))).toBe(false);
  const next = await startServerProcess({ tls: true, data });
  try {
    expect(next.output()).not.toContain("took over");
  } finally {
    await next.stop();
  }
});

test("a SQLite file outside the data folder is locked too: two data folders cannot share one database", async () => {
  const dbDir = join(tmp, "db");
  mkdirSync(dbDir, { mode: 0o700 });
  const db = `sqlite:${join(dbDir, "fleet.db")}`;
  const first = await startServerProcess({ tls: true, data: join(tmp, "a"), args: ["--db", db] });
  try {
    expect(existsSync(join(dbDir, "fleet.db.lock"))).toBe(true);
    const second = runServer("--data", join(tmp, "b"), "--db", db);
    expect(second.status).toBe(3);
    expect(second.out).toContain(
      `database ${db} is in use by another iota-server, pid ${first.proc.pid}`,
    );
    // The refused server released the lock it had taken of its own data folder.
    expect(existsSync(join(tmp, "b", "iota-server.lock"))).toBe(false);
  } finally {
    await first.stop();
  }
  expect(existsSync(join(dbDir, "fleet.db.lock"))).toBe(false);
});

test("the lock of a killed server is taken over at the next start, which says so", async () => {
  const data = join(tmp, "killed");
  const first = await startServerProcess({ tls: true, data });
  const pid = first.proc.pid;
  await first.kill();
  expect(JSON.parse(readFileSync(join(data, "iota-server.lock"), "utf8")).pid).toBe(pid);
  const next = await startServerProcess({ tls: true, data });
  try {
    expect(next.output()).toContain(`took over the lock of pid ${pid} (iota-server --data ${data}`);
    expect(next.output()).toContain(`pid ${pid} no longer runs`);
    expect(JSON.parse(readFileSync(join(data, "iota-server.lock"), "utf8")).pid).toBe(
      next.proc.pid,
    );
    expect((await next.adminCall("GET", "/v1/groups")).status).toBe(200);
  } finally {
    await next.stop();
  }
});

test("rotate-admin-token still runs beside the running server", async () => {
  const data = join(tmp, "rotate");
  const server = await startServerProcess({ tls: true, data });
  try {
    const old = server.token();
    const run = runServerToExit(["rotate-admin-token", "--data", data]);
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(server.token()).not.toBe(old);
    expect((await server.adminCall("GET", "/v1/groups")).status).toBe(200);
  } finally {
    await server.stop();
  }
});
