/**
 * SIGTERM while devices provision 32 at a time: the requests in flight are answered before the service exits
 * (0), so after the restart the database holds exactly the certificates the devices were answered, byte for
 * byte, SQLite finds it intact, and no temporary file is left in the data folder.
 */

import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { inParallel, provisionOver } from "../helpers/device-client.ts";

const tmp = mkdtempSync(join(tmpdir(), "iota-term-"));
let server: ServerProcess | undefined;
afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test("SIGTERM under provisioning load: every request in flight is answered, and the database holds exactly what was", async () => {
  const data = join(tmp, "data");
  server = await startServerProcess({ tls: true, data, args: ["--issue-rate", "0"] });
  const s = server;
  const secret = String(
    (await s.admin("POST", "/v1/groups", { name: "g" }, 201)).provisioningSecret,
  );
  const names = Array.from({ length: 20_000 }, (_, i) => `dev-${i}`);
  await s.admin("POST", "/v1/groups/g/devices", { names }, 200);
  const answered = new Map<string, string>();
  let stopped = false;
  const load = inParallel(names, 32, async (name) => {
    if (stopped) return;
    let result: Awaited<ReturnType<typeof provisionOver>>;
    try {
      result = await provisionOver(s, "g", name, secret);
    } catch {
      // Hint: a connection refused or closed after the stop began: nothing was answered, nothing asserted here.
      stopped = true;
      return;
    }
    expect([201, 503]).toContain(result.answer.status);
    if (result.held) answered.set(name, result.held.certificate.trim());
  });
  while (answered.size < 500) await Bun.sleep(10);
  s.proc.kill("SIGTERM");
  await new Promise<void>((done) => s.proc.once("exit", () => done()));
  expect(s.proc.exitCode).toBe(0);
  stopped = true;
  await load;
  server = undefined;

  expect(readdirSync(data).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  const check = spawnSync("sqlite3", [join(data, "iota.db"), "pragma integrity_check"], {
    encoding: "utf8",
  });
  expect(check.stdout.trim()).toBe("ok");
  const db = new Database(join(data, "iota.db"), { readonly: true });
  const stored = new Map(
    (
      db.query("select name, certificate from devices where state = 'provisioned'").all() as {
        name: string;
        certificate: string;
      }[]
    ).map((r) => [r.name, r.certificate.trim()]),
  );
  db.close();
  console.log(`SIGTERM after ${answered.size} answered provisionings`);
  // Answered and recorded are the same devices with the same certificates: none lost, none left unanswered.
  expect([...stored.keys()].filter((name) => !answered.has(name))).toEqual([]);
  expect([...answered].filter(([name, pem]) => stored.get(name) !== pem)).toEqual([]);
  // The restart serves them.
  server = await startServerProcess({ tls: true, data });
  const again = await provisionOver(server, "g", names[names.length - 1] as string, secret);
  expect(again.answer.status).toBe(201);
}, 180_000);
