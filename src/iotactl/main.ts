#!/usr/bin/env bun
/** iotactl: the entry point that hands the real streams, environment, files and fetch to the CLI. */

import { homedir } from "node:os";
import { runCli } from "./cli.ts";
import { systemFiles, type Io } from "./io.ts";

/**
 * Ends iotactl quietly when the reader of its output went away (`iotactl list devices | head`): the reader
 * chose to stop, which is no error of iotactl's to report.
 */
function closedPipe(error: unknown): void {
  if ((error as { code?: unknown }).code !== "EPIPE") throw error;
  process.exit(0);
}
process.stdout.on("error", closedPipe);

const io: Io = {
  stdout: {
    write: (text) => {
      try {
        process.stdout.write(text);
      } catch (error) {
        closedPipe(error);
      }
    },
    isTTY: process.stdout.isTTY === true,
  },
  stderr: {
    write: (text) => void process.stderr.write(text),
    isTTY: process.stderr.isTTY === true,
  },
  readStdin: async () => await new Response(Bun.stdin.stream()).text(),
  env: process.env,
  cwd: process.cwd(),
  home: homedir(),
  fetch: globalThis.fetch,
  files: systemFiles,
};

const code = await runCli(process.argv.slice(2), io);
// Hint: let stdout drain before exiting, so `iotactl list devices > file` never loses its tail.
process.exitCode = code;
