/** The server under the footprint benchmark's agents: iota-server with its embedded MQTT broker on loopback, and process helpers. */

import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";

const ROOT = resolve(import.meta.dir, "..");
const BUN = process.execPath;

/** Starts the server under the agents: iota-server with the embedded broker, on loopback. */
export async function startServer(
  dir: string,
): Promise<{ child: ChildProcess; url: string; mqttUrl: string; admin: Record<string, string> }> {
  const data = join(dir, "server");
  const child = spawn(
    BUN,
    [
      join(ROOT, "src/iota-server/main.ts"),
      "--data",
      data,
      "--listen",
      "127.0.0.1:0",
      "--mqtt-listen",
      "127.0.0.1:0",
    ],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "ignore"],
    },
  );
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  let url = "";
  let mqttUrl = "";
  await new Promise<void>((done, fail) => {
    child.once("exit", (code) => fail(new Error(`iota-server exited with ${code}`)));
    lines.on("line", (line) => {
      url ||= /listening on (\S+)/.exec(line)?.[1] ?? "";
      mqttUrl ||= /mqtt broker: (\S+)/.exec(line)?.[1] ?? "";
      if (url && mqttUrl) done();
    });
  });
  const token = readFileSync(join(data, "admin-token"), "utf8").trim();
  return {
    child,
    url,
    mqttUrl,
    admin: { authorization: `Bearer ${token}`, "content-type": "application/json" },
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
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once("exit", done));
  child.kill("SIGTERM");
  await exited;
}
