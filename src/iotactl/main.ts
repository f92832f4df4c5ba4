#!/usr/bin/env bun
/** iotactl: the entry point (Bun, or Node.js >= 18 for the 32-bit bundle) that hands the real streams, environment, files and fetch to the CLI. */

import { homedir } from "node:os";
import { runCli } from "./cli.ts";
import { systemFiles, type Io } from "./io.ts";
import { nodeFetch } from "./node-fetch.ts";
import { processStdout } from "./stdout.ts";

/** All of a stream as UTF-8 text (stdin: a token or names piped in). */
async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream)
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString("utf8");
}

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
  readStdin: () => readAll(process.stdin),
  env: process.env,
  cwd: process.cwd(),
  home: homedir(),
  // Hint: the bundle for 32-bit hosts runs on Node.js, whose fetch takes no TLS options (a pinned CA).
  fetch: typeof Bun === "undefined" ? nodeFetch : globalThis.fetch,
  files: systemFiles,
  onInterrupt: (handler) => {
    interruptHandlers.add(handler);
    return () => interruptHandlers.delete(handler);
  },
};

const code = await runCli(process.argv.slice(2), io);
// Hint: let stdout drain before exiting, so `iotactl list devices > file` never loses its tail.
process.exitCode = code;
