/** Runs one build tool (bun, tar, dpkg-deb) and turns a failure into an error naming the command and its output. */

import { spawnSync } from "node:child_process";

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
  if (result.error) {
    const missing = (result.error as NodeJS.ErrnoException).code === "ENOENT";
    throw new Error(
      missing
        ? `${command} is not installed (needed by the build; Debian: apt-get install ${packageOf(command)})`
        : `${command}: ${result.error.message}`,
    );
  }
  if (result.status !== 0) {
    const output = `${result.stderr}${result.stdout}`.trim().split("\n").slice(-15).join("\n");
    throw new Error(
      `${command} ${args.join(" ")} failed (exit ${result.status ?? result.signal}):\n${output}`,
    );
  }
  return result.stdout;
}

function packageOf(command: string): string {
  if (command === "dpkg-deb") return "dpkg";
  return command;
}
