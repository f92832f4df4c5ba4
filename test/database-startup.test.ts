/**
 * A replica that cannot use its PostgreSQL stops at start with one line naming why (exit 3; a malformed URL is a
 * usage error, exit 2), never the password: a wrong password, a host name that does not resolve, a database that
 * is down, a scheme with a typo, and TLS to a database across a network that cannot be verified or is not
 * offered. Against a real cluster that asks for a password over TCP and serves TLS on an address beyond loopback
 * with a certificate from a CA of its own (made with openssl).
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { freePort, networkAddress } from "./helpers/free-port.ts";
import { startPgRelay } from "./helpers/pg-relay.ts";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.ts";
import { BUN, ROOT, startServerProcess } from "./helpers/server-process.ts";

let pg: TestPostgres;
const work = mkdtempSync(join(tmpdir(), "iota-db-start-"));
const masterKey = randomBytes(32).toString("hex");
beforeAll(async () => {
  pg = await startTestPostgres(process.env, { passwords: true, tls: true });
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

/**
 * iota-server (or `rotate-admin-token`) run with `db` in IOTA_DB: its exit status and what it wrote. Hint: not
 * spawnSync, so a relay this process runs keeps relaying meanwhile.
 */
async function run(db: string, ...args: string[]) {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith("IOTA_")),
  );
  // Hint: a setting some shells carry from development; it must not turn off the check of the database's TLS.
  env.NODE_TLS_REJECT_UNAUTHORIZED = "0";
  const data = mkdtempSync(join(work, "data-"));
  const child = Bun.spawn(
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
  const [stdout, stderr, code] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ]);
  return { code, stdout, stderr };
}

/** One line on stderr and nothing on stdout, without either password. */
function oneLine(r: Awaited<ReturnType<typeof run>>, ...secrets: string[]): string {
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
    expect(server.output()).toMatch(
      /database: {4}postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\w+ \(on this machine, without TLS\)\n/,
    );
    expect(server.output()).not.toContain(new URL(pg.url).password);
  } finally {
    await server.stop();
  }
}, 60_000);

test("a wrong password: exit 3, naming the user PostgreSQL refused", async () => {
  const r = await run(variant({ password: "not-the-password" }));
  expect(r.code).toBe(3);
  const line = oneLine(r, "not-the-password");
  expect(line).toMatch(
    /^iota-server: cannot open the database postgres:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/iota_test_\w+: password authentication failed for user "postgres" \(ERR_POSTGRES_SERVER_ERROR\)$/,
  );
}, 60_000);

test("a host name that does not resolve: exit 3, naming the host (not Bun's 'connection refused')", async () => {
  const r = await run(variant({ host: "iota-db.invalid" }));
  expect(r.code).toBe(3);
  const line = oneLine(r);
  expect(line).toMatch(
    /^iota-server: cannot open the database postgres:\/\/postgres:\*\*\*@iota-db\.invalid:\d+\/\w+: the database host iota-db\.invalid cannot be resolved \((ENOTFOUND|EAI_AGAIN|EAI_FAIL|EAI_NONAME|no answer within 10 s)\): check the host name in --db \/ IOTA_DB$/,
  );
  // The same from the admin-token rotation, which opens the same database.
  const rotate = await run(variant({ host: "iota-db.invalid" }), "rotate-admin-token");
  expect(rotate.code).toBe(3);
  expect(oneLine(rotate)).toContain("the database host iota-db.invalid cannot be resolved");
}, 60_000);

test("PostgreSQL down (nothing listening): exit 3, naming the address", async () => {
  const port = await freePort();
  const r = await run(variant({ port }));
  expect(r.code).toBe(3);
  expect(oneLine(r)).toEndWith(
    `: PostgreSQL refused the connection at 127.0.0.1:${port} (ERR_POSTGRES_CONNECTION_REFUSED): is it running, and listening there?`,
  );
}, 60_000);

test("a password with an unencoded '/' makes no valid URL: exit 3, saying to percent-encode it, without it", async () => {
  const url = pg.url.replace(/:[^:@/]*@/, ":pa/ss@");
  const r = await run(url);
  expect(r.code).toBe(3);
  const line = oneLine(r, "pa/ss");
  expect(line).toContain("it is not a valid URL (ERR_INVALID_URL): percent-encode a password");
}, 60_000);

test("a typo in the scheme is a usage error (exit 2) naming IOTA_DB, with the password hidden", async () => {
  const r = await run(variant({ scheme: "postgress" }));
  expect(r.code).toBe(2);
  expect(oneLine(r)).toMatch(
    /^iota-server: IOTA_DB must start with sqlite: or postgres:\/\/ \(or postgresql:\/\/\), got "postgress:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/\w+"$/,
  );
}, 60_000);

/** `database` (default the file's) with the cluster's address beyond loopback as its host, and `query` appended. */
function acrossNetwork(query = "", database = pg.url): string {
  if (!pg.tls) throw new Error("the test cluster was started without TLS");
  const url = new URL(database);
  url.hostname = pg.tls.host;
  return `${url.toString()}${query}`;
}

test("a database across a network is asked for verified TLS: a CA this machine does not trust stops the start, naming sslrootcert", async () => {
  const r = await run(acrossNetwork());
  expect(r.code).toBe(3);
  expect(oneLine(r)).toMatch(
    /: the certificate of PostgreSQL at [\d.]+:\d+ does not chain to a CA this machine trusts \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\): add sslrootcert=FILE to the URL, FILE the CA certificate \(PEM\) that signed it$/,
  );
}, 60_000);

test("with its CA in sslrootcert the service starts, and every connection it holds to the database is TLS", async () => {
  const caFile = pg.tls?.caFile ?? "";
  // Hint: a database of its own, so this replica creates the tenant and writes the admin token.
  const fresh = await pg.createDatabase();
  const server = await startServerProcess({
    tls: false,
    args: ["--db", acrossNetwork(`?sslrootcert=${encodeURIComponent(caFile)}`, fresh)],
    env: { IOTA_MASTER_KEY: masterKey },
  });
  const admin = new SQL(fresh, { max: 1 });
  try {
    expect(server.output()).toContain("(TLS, the server's certificate verified (verify-full))\n");
    const groups = await server.fetch("/v1/groups", {
      headers: { authorization: `Bearer ${server.token()}` },
    });
    expect(groups.status).toBe(200);
    const database = new URL(fresh).pathname.slice(1);
    const held = await admin`select s.ssl, s.version, host(a.client_addr) as client
      from pg_stat_activity a join pg_stat_ssl s using (pid)
      where a.datname = ${database} and a.pid <> pg_backend_pid() and a.backend_type = 'client backend'`;
    expect(held.length).toBeGreaterThan(0);
    for (const c of held) expect([c.ssl, c.client]).toEqual([true, pg.tls?.host]);
    expect(held.map((c: { version: string }) => c.version)).toContain("TLSv1.3");
  } finally {
    await admin.close();
    await server.stop();
  }
}, 60_000);

test("a certificate that does not name the host connected to: exit 3, naming the host", async () => {
  const caFile = encodeURIComponent(pg.tls?.caFile ?? "");
  const r = await run(`${pg.url}?sslmode=verify-full&sslrootcert=${caFile}`);
  expect(r.code).toBe(3);
  expect(oneLine(r)).toMatch(
    /: the certificate of PostgreSQL at 127\.0\.0\.1:\d+ does not name 127\.0\.0\.1 \(ERR_TLS_CERT_ALTNAME_INVALID\): connect by a name or address the certificate holds$/,
  );
}, 60_000);

test("a database across a network that offers no TLS: exit 3, naming both ways on; sslmode=disable is the explicit opt-out", async () => {
  const plain = await startTestPostgres();
  const link = await startPgRelay(plain.url, networkAddress());
  try {
    const r = await run(link.url);
    expect(r.code).toBe(3);
    expect(oneLine(r)).toMatch(
      /: PostgreSQL at [\d.]+:\d+ does not offer TLS \(ERR_POSTGRES_TLS_NOT_AVAILABLE\), which iota-server asks of a database across a network: turn ssl on in its postgresql.conf, or add sslmode=disable to the URL for a network you trust$/,
    );
    const server = await startServerProcess({
      tls: false,
      args: ["--db", `${link.url}?sslmode=disable`],
      env: { IOTA_MASTER_KEY: masterKey },
    });
    try {
      expect(server.output()).toContain("?sslmode=disable (in clear, as sslmode disable asks)\n");
      const groups = await server.fetch("/v1/groups", {
        headers: { authorization: `Bearer ${server.token()}` },
      });
      expect(groups.status).toBe(200);
    } finally {
      await server.stop();
    }
  } finally {
    await link.cut();
    await plain.stop();
  }
}, 120_000);
