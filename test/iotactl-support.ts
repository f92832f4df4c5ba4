/** Test support for iotactl: a real iota-server process, a compiled iotactl binary, and a way to run it. */

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

/** The repository root and the Bun that runs it. */
export const ROOT = resolve(import.meta.dir, "..");
export const BUN = join(ROOT, "node_modules/.bin/bun");

/** A running iota-server process. */
export interface ServerProcess {
  url: string;
  token: string;
  data: string;
  stop(): Promise<void>;
}

/** Starts `iota-server --data <tmp> --listen 127.0.0.1:0` and waits for its "listening on" line. */
export async function startServerProcess(): Promise<ServerProcess> {
  const data = mkdtempSync(join(tmpdir(), "iota-data-"));
  const proc = Bun.spawn(
    [BUN, join(ROOT, "src/iota-server/main.ts"), "--data", data, "--listen", "127.0.0.1:0"],
    {
      stdout: "pipe",
      stderr: "ignore",
      cwd: ROOT,
    },
  );
  const reader = proc.stdout.getReader();
  let text = "";
  while (!/listening on (http:\/\/\S+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done)
      throw new Error(`iota-server exited before listening (status ${await proc.exited}): ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const url = /listening on (http:\/\/\S+)/.exec(text)?.[1] ?? "";
  const token = readFileSync(join(data, "admin-token"), "utf8").trim();
  return {
    url,
    token,
    data,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(data, { recursive: true, force: true });
    },
  };
}

/** Compiles src/iotactl/main.ts into `<dir>/bin/iotactl`, as users get it; returns the bin folder. */
export async function buildIotactl(dir: string): Promise<string> {
  const bin = join(dir, "bin");
  const build = Bun.spawnSync(
    [
      BUN,
      "build",
      "--compile",
      join(ROOT, "src/iotactl/main.ts"),
      "--outfile",
      join(bin, "iotactl"),
    ],
    {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  if (build.exitCode !== 0)
    throw new Error(`bun build --compile iotactl failed: ${build.stderr.toString()}`);
  return bin;
}

/** The outcome of one process run. */
export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command with `env` (merged over a minimal environment) in `cwd`, feeding `stdin`. */
export async function run(
  cmd: string[],
  options: { env: Record<string, string>; cwd: string; stdin?: string },
): Promise<RunResult> {
  const proc = Bun.spawn(cmd, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: options.cwd, ...options.env },
    stdin: options.stdin === undefined ? "ignore" : new TextEncoder().encode(options.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { code, stdout, stderr };
}

/** A fresh temp folder. */
export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** GET an admin API path with the token; the parsed JSON. */
export async function apiGet<T>(server: ServerProcess, path: string): Promise<T> {
  const response = await fetch(`${server.url}${path}`, {
    headers: { authorization: `Bearer ${server.token}` },
  });
  if (!response.ok)
    throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}
