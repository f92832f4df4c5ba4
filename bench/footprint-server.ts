/** The server under the footprint benchmark's agents: iota-server with its embedded MQTT broker on loopback, and process helpers. */

import type { ChildProcess } from "node:child_process";
import { join } from "node:path";
import { startServerProcess } from "../test/helpers/server-process.ts";

/** Starts the server under the agents: iota-server with the embedded broker, on loopback, over HTTPS. */
export async function startServer(dir: string) {
  const server = await startServerProcess({
    tls: true,
    data: join(dir, "server"),
    args: ["--mqtt-listen", "127.0.0.1:0"],
  });
  return {
    process: server,
    url: server.url,
    mqttUrl: server.brokerUrl ?? "",
    /** The server CA: the agents pin it for the API and the broker alike. */
    serverCa: server.serverCaPem,
    fetch: server.fetch,
    admin: { authorization: `Bearer ${server.token()}`, "content-type": "application/json" },
  };
}

/** A loopback TCP port that was free a moment ago (for an agent's status endpoint). */
export function freePort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

/** Stops `child` with SIGTERM and waits for it to exit (nothing when it already has). */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  await exited;
}
