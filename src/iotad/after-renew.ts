/** The `afterRenew` hook: a shell command run after each renewal (like `step ca renew --exec`), told where the new files are. */

import { spawn } from "node:child_process";
import type { Logger } from "./logger.ts";

/** Paths handed to the hook in its environment. */
export interface HookFiles {
  cert: string;
  key: string;
  ca: string;
}

/**
 * Runs `command` through the shell with IOTAD_CERT, IOTAD_KEY, IOTAD_CA and IOTAD_SERIAL set; logs its
 * exit status (never its output, which may be anything). Resolves with the exit code, or -1 when it could not start.
 */
export function runAfterRenew(
  command: string,
  files: HookFiles,
  serial: string,
  env: NodeJS.ProcessEnv,
  log: Logger,
): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, {
      shell: true,
      // Hint: the hook's output joins the log on stderr; stdout stays free for command results.
      stdio: ["ignore", 2, 2],
      env: {
        ...env,
        IOTAD_CERT: files.cert,
        IOTAD_KEY: files.key,
        IOTAD_CA: files.ca,
        IOTAD_SERIAL: serial,
      },
    });
    child.on("error", (error) => {
      log.error(`afterRenew could not start: ${error.message}`);
      resolve(-1);
    });
    child.on("exit", (code, signal) => {
      if (code === 0) log.info("afterRenew finished");
      else log.warn(`afterRenew exited with ${signal ?? `status ${code}`}`);
      resolve(code ?? -1);
    });
  });
}
