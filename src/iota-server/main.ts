#!/usr/bin/env bun
/** iota-server: the entry point that builds the real clock, files, database and sockets. */

import { existsSync } from "node:fs";
import { parseServerConfig, SERVER_USAGE } from "./config.ts";
import { startServer } from "./server.ts";
import { parseRotateConfig, ROTATE_USAGE, rotateAdminToken } from "./admin-token-rotation.ts";
import { isLoopbackHost } from "./tls/server-certificate.ts";
import { batchedWriter, streamLogger } from "./log.ts";
import { isStartupError, SERVER_EXIT } from "./exit.ts";
import { VERSION } from "../core/version.ts";
import { postgresTransport, redactUrl } from "./store/database-url.ts";

// Hint: the database (and its WAL) holds sealed secrets and token hashes; nothing the service creates is for other users.
process.umask(0o077);
const stderr = batchedWriter((text) => process.stderr.write(text));
// Hint: lines of the last turn are written before the process ends, whatever ends it.
process.on("exit", () => stderr.flush());
// Hint: and before the report of a crash, so the log reads in the order things happened.
const crash = (error: unknown) => {
  stderr.flush();
  process.stderr.write(
    `iota-server: internal error: ${(error as Error)?.stack ?? String(error)}\n`,
  );
  process.exit(SERVER_EXIT.internal);
};
process.on("uncaughtException", crash);
process.on("unhandledRejection", crash);
const log = streamLogger(stderr.write);

async function main(): Promise<number> {
  if (process.argv[2] === "rotate-admin-token") return await rotate(process.argv.slice(3));
  const options = parseServerConfig(process.argv.slice(2), process.env);
  if (options === "help") {
    process.stdout.write(SERVER_USAGE);
    return 0;
  }
  if (options === "version") {
    process.stdout.write(`iota-server ${VERSION}\n`);
    return 0;
  }
  const plainBeyondLoopback = options.tls.kind === "plain" && !isLoopbackHost(options.listen.host);
  if (plainBeyondLoopback) {
    log.error(
      `--plain-http on ${options.listen.host}: admin tokens, group secrets and device tokens cross the network in clear text, and whoever sees a device token can provision that device first; use it only behind a TLS-terminating load balancer on a private network`,
    );
  }
  const server = await startServer(options, log);
  process.stdout.write(`iota-server ${VERSION} listening on ${server.url}\n`);
  if (options.tls.kind === "operator") {
    // Hint: the API then serves the operator's chain; clients trust its CA, not the service's own server CA.
    process.stdout.write(
      `  TLS:         ${options.tls.certFile} (SIGHUP reloads it; clients trust its CA: iotactl configure --ca-file)\n`,
    );
    process.stdout.write(
      `  server CA:   ${server.serverCaPath} (the service's own, for the MQTT broker and its monitor; not the API's)\n`,
    );
  } else
    process.stdout.write(
      `  server CA:   ${server.serverCaPath} (SHA-256 fingerprint ${server.serverCaFingerprint})\n`,
    );
  if (server.broker)
    process.stdout.write(
      `  mqtt broker: ${server.broker.url} (mutual TLS; its certificate is from the server CA)\n`,
    );
  if (server.fleet.metricsUrl)
    process.stdout.write(
      `  metrics:     ${server.fleet.metricsUrl} (no token: keep it on a private scrape network)\n`,
    );
  if (options.mqttWatch)
    process.stdout.write(
      `  mqtt watch:  ${options.mqttWatch.url} (device readiness, as the monitor identity iota.monitor)\n`,
    );
  const transport = options.db.startsWith("sqlite:") ? "" : ` (${postgresTransport(options.db)})`;
  process.stdout.write(
    `  data folder: ${options.data}\n  database:    ${redactUrl(options.db)}${transport}\n`,
  );
  if (server.newAdminToken) {
    process.stdout.write(
      `  admin token: written to ${server.adminTokenPath} (0600); it is not shown again\n`,
    );
    // Hint: the token itself goes to a terminal only, never to a log that a service manager keeps.
    if (process.stdout.isTTY) process.stdout.write(`               ${server.newAdminToken}\n`);
  } else if (existsSync(server.adminTokenPath)) {
    process.stdout.write(`  admin token: ${server.adminTokenPath}\n`);
  } else {
    process.stdout.write(
      `  admin token: not in this data folder; it was written where the tenant was created (another replica, or the folder a restored database came from); \`iota-server rotate-admin-token --data ${options.data}\` writes a new one here\n`,
    );
  }
  const stop = async () => {
    await server.stop();
    process.exit(0);
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  process.on("SIGHUP", () => void server.reloadTls());
  return -1;
}

/** `iota-server rotate-admin-token`: see {@link ROTATE_USAGE}. */
async function rotate(argv: string[]): Promise<number> {
  const config = parseRotateConfig(argv, process.env);
  if (config === "help") {
    process.stdout.write(ROTATE_USAGE);
    return 0;
  }
  const { tokenPath, replaced } = await rotateAdminToken(config, Date.now());
  process.stdout.write(
    `admin token rotated: ${replaced} earlier token(s) no longer work; the new one is in ${tokenPath} (0600)\n`,
  );
  return 0;
}

main().then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (error) => {
    stderr.flush();
    process.stderr.write(`iota-server: ${(error as Error).message}\n`);
    process.exit(isStartupError(error) ? error.exitCode : SERVER_EXIT.internal);
  },
);
