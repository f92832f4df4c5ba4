/** Test support: a PostgreSQL database per test file, from IOTA_TEST_PG_URL or a throwaway local cluster. */

import { execFileSync } from "node:child_process";
import {
  appendFileSync,
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { freePort, networkAddress } from "./free-port.ts";
import { issuePair } from "./throwaway-tls.ts";

/** PostgreSQL for one test file: fresh databases on demand, everything removed by `stop()`. */
export interface TestPostgres {
  /** A database created for this test file. */
  url: string;
  /** Creates one more empty database and returns its URL (for tests that need a clean slate). */
  createDatabase(): Promise<string>;
  /** Drops the databases this file created, and stops the cluster when this file started it. */
  stop(): Promise<void>;
  /** With the `tls` option: the address beyond loopback it also listens on, and its CA (a file, PEM). */
  tls?: { host: string; caFile: string };
}

const INSTALL_HINT =
  "PostgreSQL is needed for the PostgreSQL store tests: install Debian's package (apt-get install -y postgresql) " +
  "or point IOTA_TEST_PG_URL at a server whose user may create databases (postgres://user@host:port/db)";

/** What a test file needs of its PostgreSQL. */
export interface TestPostgresOptions {
  /**
   * Password authentication over TCP (scram-sha-256), for tests of a wrong password: always a throwaway cluster
   * of our own, whose superuser's password is in `url`.
   */
  passwords?: boolean;
  /**
   * TLS as a database across a network serves it (implies `passwords`): the cluster also listens on an address of
   * this machine beyond loopback, with a certificate for that address only, issued by a CA of its own (openssl).
   */
  tls?: boolean;
}

/** Starts (or connects to) PostgreSQL and creates a fresh database; throws a clear error when PostgreSQL is missing. */
export async function startTestPostgres(
  env: Record<string, string | undefined> = process.env,
  options: TestPostgresOptions = {},
): Promise<TestPostgres> {
  const own = options.passwords === true || options.tls === true;
  const external = own ? undefined : env.IOTA_TEST_PG_URL;
  const cluster = external ? undefined : await startCluster(own, options.tls === true);
  const adminUrl = external ?? cluster?.url ?? "";
  const admin = new SQL(adminUrl, { max: 1 });
  const created: string[] = [];
  const createDatabase = async (): Promise<string> => {
    const name = `iota_test_${process.pid}_${created.length}_${Math.random().toString(36).slice(2, 8)}`;
    // Hint: our own cluster makes databases with a natural-language collation (en-US ignoring punctuation, like glibc's en_US, sorts "ab" before
    // "a-c"), as production databases often have, so tests notice SQL that depends on byte order.
    await admin.unsafe(
      cluster
        ? `create database ${name} template template0 locale_provider icu icu_locale 'en-US-u-ka-shifted' locale 'C.UTF-8'`
        : `create database ${name}`,
    );
    created.push(name);
    const url = new URL(adminUrl);
    url.pathname = `/${name}`;
    return url.toString();
  };
  try {
    const url = await createDatabase();
    return {
      url,
      ...(cluster?.tls ? { tls: cluster.tls } : {}),
      createDatabase,
      async stop() {
        try {
          if (!cluster)
            for (const name of created)
              await admin.unsafe(`drop database if exists ${name} with (force)`);
        } finally {
          await admin.close();
          cluster?.stop();
        }
      },
    };
  } catch (error) {
    await admin.close();
    cluster?.stop();
    throw error;
  }
}

/** A running throwaway cluster. */
interface Cluster {
  url: string;
  tls?: { host: string; caFile: string };
  stop(): void;
}

/** Finds Debian's PostgreSQL binaries (the newest major version installed). */
function postgresBin(): string {
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(join(root, v, "bin", "initdb")))
    : [];
  versions.sort((a, b) => Number(b) - Number(a));
  const newest = versions[0];
  if (!newest) throw new Error(`${INSTALL_HINT}; no ${root}/*/bin/initdb was found`);
  return join(root, newest, "bin");
}

/** Runs a PostgreSQL tool as the `postgres` user when we are root, because initdb and postgres refuse to run as root. */
function runPg(bin: string, args: string[]): void {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", bin, ...args]] : [bin, args];
  try {
    execFileSync(file, argv, { stdio: ["ignore", "pipe", "pipe"] });
  } catch (error) {
    const e = error as { stderr?: Buffer; stdout?: Buffer; message: string };
    throw new Error(
      `${[file, ...argv].join(" ")} failed: ${e.stderr?.toString() || e.stdout?.toString() || e.message}`,
    );
  }
}

/**
 * initdb + pg_ctl start in a temp folder owned by `postgres`: trust auth (or a password over TCP), unix socket in
 * the folder, TCP on 127.0.0.1.
 */
async function startCluster(passwords: boolean, tls: boolean): Promise<Cluster> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), "iota-pg-"));
  const data = join(dir, "data");
  const socket = join(dir, "socket");
  mkdirSync(socket);
  const host = tls ? networkAddress() : undefined;
  const pair = host ? issuePair(dir, "pg", undefined, `IP:${host}`) : undefined;
  if (pair) chmodSync(join(dir, "pg.key"), 0o600);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync("id", ["-u", "postgres"]).toString().trim());
    const gid = Number(execFileSync("id", ["-g", "postgres"]).toString().trim());
    chownSync(dir, uid, gid);
    chownSync(socket, uid, gid);
    if (pair) for (const file of ["pg.pem", "pg.key"]) chownSync(join(dir, file), uid, gid);
  }
  const port = await freePort();
  const log = join(dir, "postgres.log");
  const password = passwords ? randomBytes(12).toString("hex") : undefined;
  const pwfile = join(dir, "pwfile");
  if (password !== undefined) writeFileSync(pwfile, `${password}\n`, { mode: 0o644 });
  let started = false;
  const stop = () => {
    if (started) {
      started = false;
      try {
        runPg(join(bin, "pg_ctl"), ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        // Hint: already gone (e.g. the machine killed it); the folder is removed either way.
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    runPg(join(bin, "initdb"), [
      "-D",
      data,
      ...(password === undefined
        ? ["-A", "trust"]
        : ["--auth-local=trust", "--auth-host=scram-sha-256", `--pwfile=${pwfile}`]),
      "-U",
      "postgres",
      "-E",
      "UTF8",
      "--locale=C.UTF-8",
      "--no-sync",
    ]);
    const listen = host ? `127.0.0.1,${host}` : "127.0.0.1";
    const ssl = pair
      ? ` -c ssl=on -c ssl_cert_file=${join(dir, "pg.pem")} -c ssl_key_file=${join(dir, "pg.key")}`
      : "";
    if (host)
      appendFileSync(join(data, "pg_hba.conf"), `hostssl all all ${host}/32 scram-sha-256\n`);
    const settings = `-p ${port} -k ${socket} -c listen_addresses=${listen} -c fsync=off -c shared_buffers=16MB -c max_connections=200${ssl}`;
    started = true;
    runPg(join(bin, "pg_ctl"), ["-D", data, "-l", log, "-o", settings, "-w", "-t", "60", "start"]);
  } catch (error) {
    const tail = existsSync(log) ? `\n${readFileSync(log, "utf8").slice(-2000)}` : "";
    stop();
    throw new Error(
      `could not start a throwaway PostgreSQL cluster: ${(error as Error).message}${tail}`,
    );
  }
  // Hint: a crashed test run must not leave a postgres behind.
  process.once("exit", stop);
  const user = password === undefined ? "postgres" : `postgres:${password}`;
  const url = `postgres://${user}@127.0.0.1:${port}/postgres`;
  return host && pair ? { url, tls: { host, caFile: pair.caFile }, stop } : { url, stop };
}
