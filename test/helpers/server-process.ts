/**
 * A real iota-server process, as operators run it, for every test that needs one: HTTPS with the service's
 * own server CA or `--plain-http`, chosen by each test on purpose, and admin calls that trust that CA.
 */

import { spawn, spawnSync, type ChildProcess, type SpawnSyncReturns } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The repository root and the Bun that runs it. */
export const ROOT = resolve(import.meta.dir, "../..");
export const BUN = join(ROOT, "node_modules/.bin/bun");

/**
 * Runs `bun src/iota-server/main.ts ...args` to its end: a start that must not succeed, or a one-shot command
 * (`rotate-admin-token`); its exit status and output.
 */
export function runServerToExit(
  args: string[],
  env: Record<string, string> = {},
): SpawnSyncReturns<string> {
  return spawnSync(BUN, [join(ROOT, "src/iota-server/main.ts"), ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, ...env },
  });
}

/** How to start the server. */
export interface ServerProcessOptions {
  /** HTTPS with the service's own server CA (`true`), or `--plain-http` (`false`). */
  tls: boolean;
  /** The data folder (default: a fresh temporary one, removed by `stop`). */
  data?: string;
  /** The port on 127.0.0.1 (default 0: the OS picks one). */
  port?: number;
  /** More flags (`--mqtt-listen 127.0.0.1:0`, `--db ...`, `--hostname ...`). */
  args?: string[];
  /** Environment on top of this process's. */
  env?: Record<string, string>;
  /** The program (default: `bun src/iota-server/main.ts`; e.g. a compiled iota-server). */
  command?: string[];
}

/** A running iota-server. */
export interface ServerProcess {
  /** `https://127.0.0.1:PORT` (or `http://` with `tls: false`). */
  url: string;
  data: string;
  proc: ChildProcess;
  /** The server CA (DATA/server-ca.pem): what clients trust. */
  serverCaPem: string;
  /** Its SHA-256 fingerprint as the server printed it. */
  fingerprint: string;
  /** `mqtts://...` of the embedded broker, when `--mqtt-listen` was given. */
  brokerUrl: string | undefined;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** The admin token from DATA/admin-token. */
  token(): string;
  /** fetch() of a path on the server, trusting its server CA. */
  fetch(path: string, init?: RequestInit): Promise<Response>;
  /** An admin call: status and parsed JSON body (or text). */
  adminCall(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }>;
  /** An admin call that must answer `expect`; its JSON body. */
  admin(
    method: string,
    path: string,
    body: unknown,
    expect: number,
  ): Promise<Record<string, unknown>>;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, then wait for the exit (and remove a temporary data folder). */
  stop(): Promise<void>;
}

/** Starts the server and waits for its start-up lines. */
export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const temporary = options.data === undefined;
  const data = options.data ?? mkdtempSync(join(tmpdir(), "iota-server-"));
  const command = options.command ?? [BUN, join(ROOT, "src/iota-server/main.ts")];
  const args = [
    ...(command.slice(1) as string[]),
    "--data",
    data,
    "--listen",
    `127.0.0.1:${options.port ?? 0}`,
    ...(options.tls ? [] : ["--plain-http"]),
    ...(options.args ?? []),
  ];
  const proc = spawn(command[0] as string, args, {
    cwd: ROOT,
    env: { ...process.env, ...options.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d) => (out += d));
  proc.stderr?.on("data", (d) => (out += d));
  const exited = new Promise<void>((done) => proc.once("exit", () => done()));
  const wantsBroker = (options.args ?? []).includes("--mqtt-listen");
  await new Promise<void>((done, fail) => {
    const check = () => {
      const ready = / server CA: /.test(out) && (!wantsBroker || /mqtt broker: /.test(out));
      // Hint: the start lines come in several writes; "admin token:" is the last, written on every start.
      if (ready && /listening on /.test(out) && / admin token: /.test(out)) return done();
      if (proc.exitCode !== null)
        return fail(new Error(`iota-server exited (${proc.exitCode}) before listening:\n${out}`));
      setTimeout(check, 20);
    };
    check();
  });
  const url = /listening on (\S+)/.exec(out)?.[1] ?? "";
  const fingerprint = /SHA-256 fingerprint ([0-9A-F:]+)/.exec(out)?.[1] ?? "";
  const brokerUrl = /mqtt broker: (\S+)/.exec(out)?.[1];
  const serverCaPem = readFileSync(join(data, "server-ca.pem"), "utf8");
  const serverFetch = (path: string, init: RequestInit = {}) =>
    fetch(`${url}${path}`, { ...init, tls: { ca: serverCaPem } });
  const token = () => readFileSync(join(data, "admin-token"), "utf8").trim();
  const adminCall = async (method: string, path: string, body?: unknown) => {
    const init: RequestInit = {
      method,
      headers: { authorization: `Bearer ${token()}`, "content-type": "application/json" },
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await serverFetch(path, init);
    const text = await res.text();
    let json: unknown;
    try {
      json = text === "" ? undefined : JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json };
  };
  const end = async (signal: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    url,
    data,
    proc,
    serverCaPem,
    fingerprint,
    brokerUrl,
    output: () => out,
    token,
    fetch: serverFetch,
    adminCall,
    async admin(method, path, body, expect) {
      const { status, json } = await adminCall(method, path, body);
      if (status !== expect)
        throw new Error(
          `${method} ${path}: expected ${expect}, got ${status}: ${JSON.stringify(json)}`,
        );
      return (json ?? {}) as Record<string, unknown>;
    },
    kill: () => end("SIGKILL"),
    async stop() {
      await end("SIGTERM");
      if (temporary && existsSync(data)) rmSync(data, { recursive: true, force: true });
    },
  };
}
