/** The compiled iotad as a device runs it, for fault tests: build once, start (optionally under a wrapper such as faketime), read /status. */

import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, ROOT, startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

/** Builds `iotad` with `bun build --compile` into `dir` (for `target`, e.g. `bun-linux-arm64`); returns the executable's path. */
export function buildCompiledAgent(dir: string, target?: string): string {
  const bin = join(dir, target === undefined ? "iotad" : `iotad-${target}`);
  const build = spawnSync(
    BUN,
    [
      "build",
      "--compile",
      ...(target === undefined ? [] : [`--target=${target}`]),
      join(ROOT, "src/iotad/main.ts"),
      "--outfile",
      bin,
    ],
    { cwd: ROOT, encoding: "utf8" },
  );
  if (build.status !== 0) throw new Error(`bun build --compile failed: ${build.stderr}`);
  return bin;
}

/**
 * A real iota-server over HTTPS with its data in `dir/server`, a group `group` of one-hour certificates (only
 * SIGHUP or a one-shot renews, never the schedule) and the devices `devices`; its provisioning secret.
 */
export async function startServiceWithGroup(
  dir: string,
  group: string,
  devices: string[] = [],
): Promise<{ server: ServerProcess; secret: string }> {
  const server = await startServerProcess({ tls: true, data: join(dir, "server") });
  const created = await server.admin("POST", "/v1/groups", { name: group, validity: "1h" }, 201);
  for (const name of devices)
    await server.admin("POST", `/v1/groups/${group}/devices`, { name }, 201);
  return { server, secret: String(created.provisioningSecret) };
}

/** Writes an iotad config with the status endpoint on any free port (and `mqtt`, when given); returns its path. */
export function writeAgentConfig(
  dir: string,
  name: string,
  fields: {
    server: string;
    serverCa: string;
    group: string;
    device: string;
    token: string;
    dataDir: string;
    mqtt?: { url: string; caFile?: string };
  },
): string {
  const path = join(dir, `${name}.json`);
  writeFileSync(path, JSON.stringify({ ...fields, statusListen: "127.0.0.1:0" }));
  return path;
}

/** The agent's `/status` body (the fields the tests read). */
export type AgentStatus = Record<string, unknown> & {
  state: string;
  renewals: number;
  renewalFailures: number;
  lastError: string | null;
};

/** A running `iotad run` and its captured log. */
export interface AgentProcess {
  proc: ChildProcess;
  log(): string;
  /** `GET /status`, or `undefined` before the endpoint is up. */
  status(): Promise<AgentStatus | undefined>;
  /** Polls /status until `ok` holds; fails with `what` and the log after `limitMs`. */
  until(ok: (s: AgentStatus) => boolean, what: string, limitMs?: number): Promise<AgentStatus>;
  /** SIGTERM, then wait for the exit. */
  stop(): Promise<void>;
}

/** Starts `[...wrapper] bin run --config config` with `env` added. */
export function startCompiledAgent(
  bin: string,
  config: string,
  wrapper: string[] = [],
  env: Record<string, string> = {},
): AgentProcess {
  const argv = [...wrapper, bin, "run", "--config", config];
  const proc = spawn(argv[0] as string, argv.slice(1), {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...env },
  });
  let log = "";
  proc.stdout?.on("data", (d) => (log += d));
  proc.stderr?.on("data", (d) => (log += d));
  const exited = new Promise<void>((done) => proc.once("exit", () => done()));
  const status = async () => {
    const url = /status endpoint on (http:\/\/\S+)/.exec(log)?.[1];
    if (!url) return undefined;
    try {
      return (await (await fetch(`${url.replace(/\/$/, "")}/status`)).json()) as AgentStatus;
    } catch {
      return undefined;
    }
  };
  const until = async (ok: (s: AgentStatus) => boolean, what: string, limitMs = 60_000) => {
    const started = Date.now();
    let last: AgentStatus | undefined;
    for (;;) {
      last = await status();
      if (last && ok(last)) return last;
      if (proc.exitCode !== null)
        throw new Error(`iotad exited (${proc.exitCode}) while waiting for ${what}; log:\n${log}`);
      if (Date.now() - started > limitMs)
        throw new Error(
          `timed out waiting for ${what}; last status ${JSON.stringify(last)}; log:\n${log}`,
        );
      await Bun.sleep(100);
    }
  };
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill("SIGTERM");
    await exited;
  };
  return { proc, log: () => log, status, until, stop };
}

export { fakeClockEnv } from "../helpers/fake-clock.ts";
