#!/usr/bin/env bun
/** iotad: the entry point, the one place that builds the real clock, files, sockets, MQTT client and signal handlers. */

import { readFileSync } from "node:fs";
import { randomInt } from "node:crypto";
import mqtt from "mqtt";
import { parseCommandLine } from "./cli.ts";
import { runCommand } from "./commands.ts";
import { systemClock } from "./clock.ts";
import { nodeDisk } from "./disk.ts";
import { EXIT } from "./exit-codes.ts";
import { listenHttp } from "./http-listener.ts";
import { nodeLockHost } from "../core/lock-host.ts";
import { nodeHttpTransport } from "./http-transport.ts";
import { connectIgnoringClock } from "./mqtt-clock-tolerant.ts";
import type { Runtime } from "./runtime.ts";

// Hint: mqtt.js calls url.parse(), whose deprecation warning (DEP0169) would land in every device log.
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const code =
    typeof rest[0] === "object" && rest[0] !== null ? (rest[0] as { code?: string }).code : rest[1];
  const text = typeof warning === "string" ? warning : warning.message;
  if (code === "DEP0169" || text.includes("url.parse()")) return;
  (emitWarning as (...args: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

const disk = nodeDisk();
const runtime: Runtime = {
  env: process.env,
  cwd: process.cwd(),
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  clock: systemClock(),
  random: () => randomInt(2 ** 47) / 2 ** 47,
  disk,
  locks: nodeLockHost(disk),
  readText: (path) => readFileSync(path, "utf8"),
  host: { sysfs: "/sys" },
  transport: (ca) => nodeHttpTransport(ca !== undefined ? { ca } : {}),
  mqttConnect: (url, options, ignoreClock) =>
    ignoreClock && typeof options.ca === "string"
      ? connectIgnoringClock(url, { ...options, ca: options.ca })
      : mqtt.connect(url, options),
  listen: listenHttp,
  onSignal: (signal, handler) => process.on(signal, handler),
};

runCommand(parseCommandLine(process.argv.slice(2)), runtime).then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(`iotad: unexpected failure: ${(error as Error).message}\n`);
    process.exit(EXIT.internal);
  },
);
