/** A real iota-server process for fault and security tests: start on an OS-chosen port, capture all output, kill or stop. */

import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

/** The repository root and the Bun that runs it. */
export const ROOT = resolve(import.meta.dir, "../..");
export const BUN = join(ROOT, "node_modules/.bin/bun");

/** A running iota-server. */
export interface RunningServer {
  url: string;
  proc: ChildProcess;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
  /** The admin token from DATA/admin-token. */
  token(): string;
  /** SIGKILL, then wait for the exit. */
  kill(): Promise<void>;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<void>;
}

/** Starts `iota-server --data DATA --listen 127.0.0.1:PORT` (0 = any port) and waits for its "listening on" line. */
export async function startServer(
  data: string,
  port = 0,
  env: Record<string, string> = {},
): Promise<RunningServer> {
  const proc = spawn(
    BUN,
    [join(ROOT, "src/iota-server/main.ts"), "--data", data, "--listen", `127.0.0.1:${port}`],
    {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  proc.stdout?.on("data", (d) => (out += d));
  proc.stderr?.on("data", (d) => (out += d));
  const exited = new Promise<void>((done) => proc.once("exit", () => done()));
  const url = await new Promise<string>((done, fail) => {
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) return done(match[1]);
      if (proc.exitCode !== null)
        return fail(new Error(`iota-server exited (${proc.exitCode}) before listening:\n${out}`));
      setTimeout(check, 20);
    };
    check();
  });
  const end = async (signal: NodeJS.Signals) => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    await exited;
  };
  return {
    url,
    proc,
    output: () => out,
    token: () => readFileSync(join(data, "admin-token"), "utf8").trim(),
    kill: () => end("SIGKILL"),
    stop: () => end("SIGTERM"),
  };
}

/** An admin API call against a running server; the status and parsed JSON body (if any). */
export async function adminCall(
  server: RunningServer,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const init: RequestInit = {
    method,
    headers: { authorization: `Bearer ${server.token()}`, "content-type": "application/json" },
  };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(`${server.url}${path}`, init);
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}
