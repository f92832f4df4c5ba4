/** Test support: a real iota-server process on loopback (as operators run it), with admin calls for groups and devices. */

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A running iota-server process and its admin API. */
export interface ServerProcess {
  /** `http://127.0.0.1:PORT`. */
  url: string;
  adminToken: string;
  /** Admin API call; throws with the answer when the status is not `expect`. */
  call(
    method: string,
    path: string,
    body: unknown,
    expect: number,
  ): Promise<Record<string, unknown>>;
  stop(): Promise<void>;
}

/** Starts `bun src/iota-server/main.ts --data <tmp> --listen 127.0.0.1:0` from `repo` and waits for its "listening on" line. */
export async function startServerProcess(repo: string): Promise<ServerProcess> {
  const data = mkdtempSync(join(tmpdir(), "iota-dist-server-"));
  const bun = join(repo, "node_modules/.bin/bun");
  const child: ChildProcess = spawn(
    bun,
    ["src/iota-server/main.ts", "--data", data, "--listen", "127.0.0.1:0"],
    { cwd: repo, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/[^\s]+)/.exec(output);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on("data", onData);
    child.stderr?.on("data", onData);
    child.once("exit", (code) =>
      reject(new Error(`iota-server exited (${code}) before listening:\n${output}`)),
    );
  });
  const adminToken = readFileSync(join(data, "admin-token"), "utf8").trim();
  const call = async (method: string, path: string, body: unknown, expect: number) => {
    const init: RequestInit = {
      method,
      headers: { authorization: `Bearer ${adminToken}`, "content-type": "application/json" },
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    const res = await fetch(`${url}${path}`, init);
    const text = await res.text();
    if (res.status !== expect)
      throw new Error(`${method} ${path}: expected ${expect}, got ${res.status}: ${text}`);
    return text === "" ? {} : (JSON.parse(text) as Record<string, unknown>);
  };
  const stop = async () => {
    if (child.exitCode === null) {
      const exited = new Promise((done) => child.once("exit", done));
      child.kill("SIGTERM");
      await exited;
    }
    rmSync(data, { recursive: true, force: true });
  };
  return { url, adminToken, call, stop };
}
