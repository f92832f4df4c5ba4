/** `iota-server rotate-admin-token` beside a running HTTPS service: the old token stops working at once, the new one works. */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUN, ROOT, startServerProcess, type ServerProcess } from "./helpers/server-process.ts";

let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess({ tls: true });
});
afterAll(async () => await server.stop());

/** `iota-server rotate-admin-token ARGS` as an operator runs it on the service's host. */
function rotate(...args: string[]) {
  const run = Bun.spawnSync(
    [BUN, join(ROOT, "src/iota-server/main.ts"), "rotate-admin-token", ...args],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
    },
  );
  return { code: run.exitCode, stdout: run.stdout.toString(), stderr: run.stderr.toString() };
}

/** GET /v1/groups with `token`: its status. */
async function groupsWith(token: string): Promise<number> {
  const response = await server.fetch("/v1/groups", {
    headers: { authorization: `Bearer ${token}` },
  });
  await response.arrayBuffer();
  return response.status;
}

describe("iota-server rotate-admin-token", () => {
  test("replaces the token on the running service: the old one gets 401, the new one (0600 file) works", async () => {
    const old = server.token();
    expect(await groupsWith(old)).toBe(200);

    const r = rotate("--data", server.data);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("1 earlier token(s) no longer work");
    expect(r.stdout).toContain(join(server.data, "admin-token"));
    const fresh = server.token();
    expect(fresh).not.toBe(old);
    expect(r.stdout + r.stderr).not.toContain(fresh);
    expect(statSync(join(server.data, "admin-token")).mode & 0o777).toBe(0o600);

    expect(await groupsWith(old)).toBe(401);
    expect(await groupsWith(fresh)).toBe(200);

    expect(rotate("--data", server.data).code).toBe(0);
    expect(await groupsWith(fresh)).toBe(401);
    expect(await groupsWith(server.token())).toBe(200);
  });

  test("a data folder without a database is refused (exit 3) and left as it was", () => {
    const parent = mkdtempSync(join(tmpdir(), "iota-rotate-"));
    try {
      const missing = join(parent, "typo");
      const r = rotate("--data", missing);
      expect(r.code).toBe(3);
      expect(r.stderr).toContain(`there is no database at ${join(missing, "iota.db")}`);
      expect(existsSync(missing)).toBe(false);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  test("an unreachable database is named without its password (exit 3); the token file is untouched", () => {
    const before = readFileSync(join(server.data, "admin-token"), "utf8");
    const r = rotate("--data", server.data, "--db", "postgres://iota:hunter2@127.0.0.1:1/iota");
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("cannot open the database postgres://iota:***@127.0.0.1:1/iota");
    expect(r.stderr).not.toContain("hunter2");
    expect(readFileSync(join(server.data, "admin-token"), "utf8")).toBe(before);
  });

  test("a wrong flag is named (exit 2); the token file is untouched", () => {
    const before = readFileSync(join(server.data, "admin-token"), "utf8");
    const r = rotate("--data", server.data, "--listen", "0.0.0.0:1");
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--listen");
    expect(readFileSync(join(server.data, "admin-token"), "utf8")).toBe(before);
  });
});
