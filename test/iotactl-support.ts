/** Test support for iotactl: a compiled iotactl binary, and a way to run it (the server: helpers/server-process.ts). */

import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ServerProcess } from "./helpers/server-process.ts";

/** The repository root and the Bun that runs it. */
export const ROOT = resolve(import.meta.dir, "..");
export const BUN = join(ROOT, "node_modules/.bin/bun");

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
  const response = await server.fetch(path, {
    headers: { authorization: `Bearer ${server.token()}` },
  });
  if (!response.ok)
    throw new Error(`GET ${path}: HTTP ${response.status} ${await response.text()}`);
  return (await response.json()) as T;
}
