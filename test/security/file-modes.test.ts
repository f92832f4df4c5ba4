/** Files holding keys, tokens and secrets are 0600 in 0700 folders: iota-server's data, iotactl's config and outputs, iotad's data. */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deviceToken } from "../../src/core/token.ts";
import { BUN, ROOT, startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iota-modes-"));
let server: ServerProcess;
let secret = "";

const mode = (path: string) => statSync(path).mode & 0o777;

/** Runs a program of the repository as a real process with a umask that would leave files world-readable. */
function run(program: string, args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(
    "sh",
    ["-c", `umask 022; exec "$@"`, "sh", BUN, join(ROOT, program), ...args],
    { cwd: tmp, encoding: "utf8", env: { PATH: process.env.PATH ?? "", HOME: tmp, ...env } },
  );
  if (result.status !== 0)
    throw new Error(`${program} ${args.join(" ")} exited ${result.status}: ${result.stderr}`);
  return result;
}

beforeAll(async () => {
  server = await startServerProcess({ tls: false, data: join(tmp, "server") });
  secret = (
    (await server.adminCall("POST", "/v1/groups", { name: "g" })).json as {
      provisioningSecret: string;
    }
  ).provisioningSecret;
  await server.adminCall("POST", "/v1/groups/g/devices", { names: ["host-dev", "agent-dev"] });
  writeFileSync(join(tmp, "prov_secret.txt"), `${secret}\n`, { mode: 0o600 });
  writeFileSync(join(tmp, "token.txt"), `${server.token()}\n`, { mode: 0o600 });
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test("iota-server: the data folder is 0700; master key and admin token are 0600; only the public server CA is readable by others", () => {
  const data = join(tmp, "server");
  expect(mode(data)).toBe(0o700);
  expect(mode(join(data, "master.key"))).toBe(0o600);
  expect(mode(join(data, "admin-token"))).toBe(0o600);
  // Hint: server-ca.pem is the certificate operators hand out (0644); the 0700 folder still keeps others out.
  expect(mode(join(data, "server-ca.pem"))).toBe(0o644);
  for (const name of readdirSync(data).filter((n) => n !== "server-ca.pem"))
    expect({ name, others: mode(join(data, name)) & 0o077 }).toEqual({ name, others: 0 });
});

test("iotactl: configure writes its config 0600 in a 0700 folder; provision writes key.pem 0600 in a 0700 folder; gen config 0600 files", () => {
  const xdg = join(tmp, "xdg");
  run("src/iotactl/main.ts", ["configure", "--server", server.url, "--token-file", "token.txt"], {
    XDG_CONFIG_HOME: xdg,
  });
  expect(mode(join(xdg, "iotactl"))).toBe(0o700);
  expect(mode(join(xdg, "iotactl", "config.json"))).toBe(0o600);
  run(
    "src/iotactl/main.ts",
    ["provision", "-g", "g", "host-dev", "--secret-file", "prov_secret.txt", "--out", "host-dev"],
    { XDG_CONFIG_HOME: xdg },
  );
  expect(mode(join(tmp, "host-dev"))).toBe(0o700);
  expect(mode(join(tmp, "host-dev", "key.pem"))).toBe(0o600);
  run(
    "src/iotactl/main.ts",
    [
      "gen",
      "config",
      "-g",
      "g",
      "agent-dev",
      "--secret-file",
      "prov_secret.txt",
      "--out",
      "configs",
    ],
    { XDG_CONFIG_HOME: xdg },
  );
  expect(mode(join(tmp, "configs"))).toBe(0o700);
  expect(mode(join(tmp, "configs", "agent-dev.json"))).toBe(0o600);
}, 60_000);

test("iotad: the data folder is 0700 and its key, pending key and certificate files are 0600", () => {
  const config = join(tmp, "agent.json");
  const dataDir = join(tmp, "agent-data");
  writeFileSync(
    config,
    JSON.stringify({
      server: server.url,
      group: "g",
      device: "agent-dev",
      token: deviceToken(secret, "g", "agent-dev"),
      dataDir,
      statusListen: "127.0.0.1:0",
    }),
    { mode: 0o600 },
  );
  run("src/iotad/main.ts", ["provision", "--config", config]);
  run("src/iotad/main.ts", ["renew", "--config", config]);
  expect(mode(dataDir)).toBe(0o700);
  const names = readdirSync(dataDir);
  expect(names).toContain("key.pem");
  for (const name of names.filter((n) => n !== "ca.pem"))
    expect({ name, mode: mode(join(dataDir, name)) }).toEqual({ name, mode: 0o600 });
}, 60_000);
