/**
 * Backup and restore as docs/server.md gives them: `sqlite3 iota.db "VACUUM INTO ..."` while devices provision, the
 * copy and master.key restored into a new data folder. Devices whose certificate is in the backup renew; for
 * the others the answers are the ones the documentation describes, and what brings each back works.
 */

import { afterAll, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import {
  inParallel,
  provisionOver,
  renewOver,
  type HeldIdentity,
} from "../helpers/device-client.ts";

const tmp = mkdtempSync(join(tmpdir(), "iota-backup-"));
const servers: ServerProcess[] = [];
afterAll(async () => {
  for (const s of servers) await s.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** `sqlite3 DB "VACUUM INTO 'COPY'"`, as the documentation says, without blocking this process's event loop. */
function backUp(database: string, copy: string): Promise<number | null> {
  return new Promise((done) => {
    const child = spawn("sqlite3", [database, `VACUUM INTO '${copy}'`], { stdio: "ignore" });
    child.once("exit", (code) => done(code));
  });
}

test("a backup taken under provisioning load restores; every device finds its way back as documented", async () => {
  const original = join(tmp, "original");
  const a = await startServerProcess({ tls: true, data: original, args: ["--issue-rate", "0"] });
  servers.push(a);
  const secret = String(
    (await a.admin("POST", "/v1/groups", { name: "g" }, 201)).provisioningSecret,
  );
  const names = Array.from({ length: 400 }, (_, i) => `dev-${i}`);
  await a.admin("POST", "/v1/groups/g/devices", { names }, 200);
  const held = new Map<string, HeldIdentity>();
  const provision = (list: string[]) =>
    inParallel(list, 8, async (name) => {
      const { answer, held: got } = await provisionOver(a, "g", name, secret);
      expect(answer.status).toBe(201);
      if (got) held.set(name, got);
    });
  await provision(names.slice(0, 100));
  // The backup runs while the next 200 provision: it starts once 20 of them were answered.
  const backup = join(tmp, "backup.db");
  const load = provision(names.slice(100, 300));
  while (held.size < 120) await Bun.sleep(5);
  expect(await backUp(join(original, "iota.db"), backup)).toBe(0);
  await load;
  expect(
    spawnSync("sqlite3", [backup, "pragma integrity_check"], { encoding: "utf8" }).stdout.trim(),
  ).toBe("ok");
  await provision(names.slice(300));

  // After the backup: 20 devices known to it renew, one device is created and provisioned.
  const renewedAfter = names.slice(0, 20);
  await inParallel(renewedAfter, 8, async (name) => {
    const { answer, held: got } = await renewOver(a, held.get(name) as HeldIdentity);
    expect(answer.status).toBe(201);
    if (got) held.set(name, got);
  });
  await a.admin("POST", "/v1/groups/g/devices", { name: "late" }, 201);
  const late = (await provisionOver(a, "g", "late", secret)).held as HeldIdentity;
  await a.stop();
  servers.pop();

  const copy = new Database(backup, { readonly: true });
  const inBackup = new Set(
    (
      copy.query("select name from devices where state = 'provisioned'").all() as { name: string }[]
    ).map((r) => r.name),
  );
  copy.close();
  const provisionedAfter = names.filter((n) => !inBackup.has(n));
  const untouched = names.filter((n) => inBackup.has(n) && !renewedAfter.includes(n));
  console.log(
    `backup under load: ${inBackup.size} of ${names.length} devices were provisioned in it`,
  );
  expect(inBackup.size).toBeGreaterThanOrEqual(120);
  expect(provisionedAfter.length).toBeGreaterThanOrEqual(100);

  // Restored into a folder of its own with the master key.
  const restored = join(tmp, "restored");
  mkdirSync(restored, { mode: 0o700 });
  copyFileSync(backup, join(restored, "iota.db"));
  copyFileSync(join(original, "master.key"), join(restored, "master.key"));
  copyFileSync(join(original, "admin-token"), join(restored, "admin-token"));
  const b = await startServerProcess({ tls: true, data: restored, args: ["--issue-rate", "0"] });
  servers.push(b);

  // Known to the backup, not renewed since: renews.
  await inParallel(untouched, 8, async (name) => {
    expect((await renewOver(b, held.get(name) as HeldIdentity)).answer.status).toBe(201);
  });
  // Provisioned after the backup: its renewal is refused saying why, and it provisions again with its token.
  await inParallel(provisionedAfter, 8, async (name) => {
    const { answer } = await renewOver(b, held.get(name) as HeldIdentity);
    expect(answer.status).toBe(400);
    expect(String(answer.body.detail)).toContain(
      "was signed by this service's CA but is not in its database (restored from a backup taken before it was issued?)",
    );
    expect((await provisionOver(b, "g", name, secret)).answer.status).toBe(201);
  });
  // Created after the backup: unknown, until the operator creates it again.
  expect((await renewOver(b, late)).answer.status).toBe(400);
  expect((await provisionOver(b, "g", "late", secret)).answer.status).toBe(404);
  await b.admin("POST", "/v1/groups/g/devices", { name: "late" }, 201);
  expect((await provisionOver(b, "g", "late", secret)).answer.status).toBe(201);
  // Renewed after the backup: the backup holds its earlier key, so it is a 409 until reset with forgetKey; a
  // plain reset asks for a proof of that earlier key, which the device no longer has.
  for (const name of renewedAfter) {
    const now = held.get(name) as HeldIdentity;
    expect((await renewOver(b, now)).answer.status).toBe(400);
    expect((await provisionOver(b, "g", name, secret, now.keys.privateKey)).answer.status).toBe(
      409,
    );
  }
  const [plain, ...rest] = renewedAfter as [string, ...string[]];
  await b.admin("POST", `/v1/groups/g/devices/${plain}/reset`, {}, 200);
  const current = (held.get(plain) as HeldIdentity).keys.privateKey;
  expect((await provisionOver(b, "g", plain, secret, current)).answer.status).toBe(401);
  for (const name of [plain, ...rest]) {
    await b.admin("POST", `/v1/groups/g/devices/${name}/reset`, { forgetKey: true }, 200);
    const again = await provisionOver(b, "g", name, secret, held.get(name)?.keys.privateKey);
    expect(again.answer.status).toBe(201);
  }
}, 240_000);
