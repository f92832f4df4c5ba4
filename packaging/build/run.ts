/** Runs one build tool (bun, tar, dpkg-deb) and turns a failure into an error naming the command and its output. */

import { spawn, spawnSync } from "node:child_process";

/** Runs `command args...` in `cwd`; returns stdout, throws with the tool's stderr when it fails or is missing. */
export function run(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
): string {
  const result = spawnSync(command, args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.error) throw spawnError(command, result.error);
  if (result.status !== 0)
    throw exitError(command, args, result.status ?? result.signal, result.stderr + result.stdout);
  return result.stdout;
}

/** An xz preset: 6 (xz's default) for the release; 1 for the test suite's build (5x faster, ~12% larger). */
export type XzLevel = 1 | 6;

/** The preset of `npm run build`: what devices download. */
export const RELEASE_XZ_LEVEL: XzLevel = 6;

/**
 * `run` without blocking: compiles and the compressors (xz, ~1 min of CPU per executable) of
 * several packages then share the machine's cores. Resolves with stdout.
 */
export function runAsync(
  command: string,
  args: string[],
  options: { cwd?: string } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.once("error", (error) => reject(spawnError(command, error)));
    child.once("close", (code, signal) => {
      if (code === 0) resolve(stdout);
      else reject(exitError(command, args, code ?? signal, stderr + stdout));
    });
  });
}

function spawnError(command: string, error: Error): Error {
  const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
  return new Error(
    missing
      ? `${command} is not installed (needed by the build; Debian: apt-get install ${packageOf(command)})`
      : `${command}: ${error.message}`,
  );
}

function exitError(command: string, args: string[], status: unknown, output: string): Error {
  const tail = output.trim().split("\n").slice(-15).join("\n");
  return new Error(`${command} ${args.join(" ")} failed (exit ${status}):\n${tail}`);
}

function packageOf(command: string): string {
  if (command === "dpkg-deb") return "dpkg";
  if (command === "xz") return "xz-utils";
  return command;
}
