/** iotactl run in the test's own process: its command line over an {@link Io} that captures what it prints. */

import { join } from "node:path";
import { runCli } from "../../src/iotactl/cli.ts";
import { systemFiles, type Files, type Io } from "../../src/iotactl/io.ts";

/** What one in-process iotactl run printed, and its exit code. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Where and how iotactl runs: `dir` is its working folder, home, and (as `dir/xdg`) its config home. */
export interface CliSetup {
  dir: string;
  /** Variables over `XDG_CONFIG_HOME=dir/xdg`. */
  env?: Record<string, string>;
  stdin?: string;
  /** Whether standard error is a terminal (progress bars, colours). */
  tty?: boolean;
  /** The network; by default none: any request fails the test. */
  fetch?: typeof fetch;
  /** The file system; by default the real one. */
  files?: Files;
  /**
   * The error code (`ENOSPC`, `EIO`) writing standard output meets, as a full disk under `> FILE` does;
   * what was written still shows in {@link CliResult.stdout}.
   */
  stdoutFails?: string;
}

/** A fetch that must not be called: the command under test is not supposed to use the network. */
export const noNetwork = (() => {
  throw new Error("this iotactl command must not use the network");
}) as unknown as typeof fetch;

/** A fetch that hands every request to an in-process app (`app.request`), noting `METHOD path` in `seen`. */
export function appFetch(
  app: { request(input: string, init?: RequestInit): Response | Promise<Response> },
  seen?: string[],
): typeof fetch {
  return (async (input: string | URL | Request, init?: RequestInit) => {
    seen?.push(`${init?.method ?? "GET"} ${new URL(String(input)).pathname}`);
    return await app.request(String(input), init);
  }) as typeof fetch;
}

/** Runs `iotactl argv` in this process as {@link CliSetup} says. */
export async function runIotactl(argv: string[], setup: CliSetup): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const io: Io = {
    stdout: {
      write: (text) => {
        stdout += text;
      },
      isTTY: false,
      flushed: async () => {
        if (setup.stdoutFails !== undefined && stdout !== "")
          throw Object.assign(new Error(`${setup.stdoutFails}: write failed, write`), {
            code: setup.stdoutFails,
            syscall: "write",
          });
      },
    },
    stderr: {
      write: (text) => {
        stderr += text;
      },
      isTTY: setup.tty ?? false,
    },
    readStdin: async () => setup.stdin ?? "",
    env: { XDG_CONFIG_HOME: join(setup.dir, "xdg"), ...setup.env },
    cwd: setup.dir,
    home: setup.dir,
    fetch: setup.fetch ?? noNetwork,
    files: setup.files ?? systemFiles,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}
