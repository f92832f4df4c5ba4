/**
 * A replica that cannot use its PostgreSQL stops at start with one line naming why (exit 3; a malformed URL is a
 * usage error, exit 2), never the password: a wrong password, a host name that does not resolve, a database that
 * is down, a scheme with a typo. Against a real cluster that asks for a password over TCP.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./helpers/free-port.ts";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.ts";
import { BUN, ROOT, startServerProcess } from "./helpers/server-process.ts";

let pg: TestPostgres;
const work = mkdtempSync(join(tmpdir(), "iota-db-start-"));
const masterKey = randomBytes(32).toString("hex");
beforeAll(async () => {
  pg = await startTestPostgres(process.env, { passwords: true });
}, 120_000);
afterAll(async () => {
  await pg?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** The database URL with another password, host, port or scheme. */
function variant(change: { password?: string; host?: string; port?: number; scheme?: string }) {
  const url = new URL(pg.url);
  if (change.password !== undefined) url.password = change.password;
  if (change.host !== undefined) url.hostname = change.host;
  if (change.port !== undefined) url.port = String(change.port);
  const text = url.toString();
  return change.scheme ? text.replace(/^postgres:/, `${change.scheme}:`) : text;
}

/** iota-server (or `rotate-admin-token`) run with `db` in IOTA_DB: its exit status and what it wrote. */
function run(db: string, ...args: string[]) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("IOTA_")),
  );
  const data = mkdtempSync(join(work, "data-"));
  const done = Bun.spawnSync(
    [
      BUN,
      join(ROOT, "src/iota-server/main.ts"),
      ...args,
      "--data",
      data,
      ...(args.length ? [] : ["--listen", "127.0.0.1:0"]),
    ],
    {
      env: { ...env, IOTA_DB: db, IOTA_MASTER_KEY: masterKey },
      stdout: "pipe",
      stderr: "pipe",
      timeout: 60_000,
    },
  );
  return { code: done.exitCode, stdout: done.stdout.toString(), stderr: done.stderr.toString() };
}

/** One line on stderr and nothing on stdout, without either password. */
function oneLine(r: ReturnType<typeof run>, ...secrets: string[]): string {
  expect(r.stdout).toBe("");
  const line = r.stderr.trimEnd();
  expect(line.split("\n")).toHaveLength(1);
  for (const secret of [new URL(pg.url).password, ...secrets]) expect(line).not.toContain(secret);
  return line;
}

test("the right password starts the service, and the start lines hide it", async () => {
  const server = await startServerProcess({
    tls: false,
    args: ["--db", pg.url],
    env: { IOTA_MASTER_KEY: masterKey },
  });
  try {
    expect(server.output()).toContain("database:    postgres://postgres:***@127.0.0.1:");
    expect(server.output()).not.toContain(new URL(pg.url).password);
  } finally {
    await server.stop();
  }
}, 60_000);

test("a wrong password: exit 3, naming the user PostgreSQL refused", () => {
  const r = run(variant({ password: "not-the-password" }));
  expect(r.code).toBe(3);
  const line = oneLine(r, "not-the-password");
  expect(line).toMatch(
    /^iota-server: cannot open the database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/iota_test_\w+: password authentication failed for user "postgres" \(ERR_POSTGRES_SERVER_ERROR\)$/,
  );
}, 60_000);

test("a host name that does not resolve: exit 3, naming the host (not Bun's 'connection refused')", () => {
  const r = run(variant({ host: "iota-db.invalid" }));
  expect(r.code).toBe(3);
  const line = oneLine(r);
  expect(line).toMatch(
    /^iota-server: cannot open the database postgres:\/\/postgres:\*\*\*@iota-db\.invalid:\d+\/\w+: the database host iota-db\.invalid cannot be resolved \((ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME|no answer within 10 s)\): check the host name in --db \/ IOTA_DB$/,
  );
  // The same from the admin-token rotation, which opens the same database.
  const rotate = run(variant({ host: "iota-db.invalid" }), "rotate-admin-token");
  expect(rotate.code).toBe(3);
  expect(oneLine(rotate)).toContain("the database host iota-db.invalid cannot be resolved");
}, 60_000);

test("PostgreSQL down (nothing listening): exit 3, naming the address", async () => {
  const port = await freePort();
  const r = run(variant({ port }));
  expect(r.code).toBe(3);
  expect(oneLine(r)).toEndWith(
    `: PostgreSQL refused the connection at 127.0.0.1:${port} (ERR_POSTGRES_CONNECTION_REFUSED): is it running, and listening there?`,
  );
}, 60_000);

test("a password with an unencoded '/' makes no valid URL: exit 3, saying to percent-encode it, without it", () => {
  const url = pg.url.replace(/:[^:@/]*@/, ":pa/ss@");
  const r = run(url);
  expect(r.code).toBe(3);
  const line = oneLine(r, "pa/ss");
  expect(line).toContain("it is not a valid URL (ERR_INVALID_URL): percent-encode a password");
}, 60_000);

test("a typo in the scheme is a usage error (exit 2) naming IOTA_DB, with the password hidden", () => {
  const r = run(variant({ scheme: "postgress" }));
  expect(r.code).toBe(2);
  expect(oneLine(r)).toMatch(
    /^iota-server: IOTA_DB must start with sqlite: or postgres:\/\/ \(or postgresql:\/\/\), got "postgress:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\w+"$/,
  );
}, 60_000);
