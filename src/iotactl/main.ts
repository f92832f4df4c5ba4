#!/usr/bin/env bun
/** iotactl: the entry point that hands the real streams, environment, files and fetch to the CLI. */

import { homedir } from "node:os";
import { runCli } from "./cli.ts";
import { systemFiles, type Io } from "./io.ts";
import { processStdout } from "./stdout.ts";

/**
 * Ctrl-C and SIGTERM end iotactl at once (exit 130 or 143), unless a bulk command asked to hear of them: it
 * then stops between two batches or files and says how far it got; a second one ends it at once.
 */
const interruptHandlers = new Set<() => void>();
let interrupted = false;
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const)
  process.on(signal, () => {
    if (interrupted || interruptHandlers.size === 0) process.exit(code);
    interrupted = true;
    for (const handler of interruptHandlers) handler();
  });

/**
 * Ends iotactl quietly when the reader of its output went away (`iotactl list devices | head`): the reader
 * chose to stop, which is no error of iotactl's to report.
 */
const closedPipe = () => process.exit(0);

const io: Io = {
  stdout: processStdout(process.stdout, closedPipe),
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
  onInterrupt: (handler) => {
    interruptHandlers.add(handler);
    return () => interruptHandlers.delete(handler);
  },
};

const code = await runCli(process.argv.slice(2), io);
// Hint: let stdout drain before exiting, so `iotactl list devices > file` never loses its tail.
process.exitCode = code;
