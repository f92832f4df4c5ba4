/**
 * The data folder's disk fills up while devices provision and renew (a 4 MiB tmpfs): every request the database
 * cannot take is a 503 problem+json with Retry-After, never a 500 and never a certificate that is not in the
 * database; the log names the full disk; once space is freed the same process serves again, and the database
 * holds every answered certificate and passes SQLite's integrity check. Mounting needs root (as in CI).
 */

import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import {
  inParallel,
  provisionOver,
  renewOver,
  type Answer,
  type HeldIdentity,
} from "../helpers/device-client.ts";
import { runOk } from "../helpers/mosquitto-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iota-disk-full-"));
const mount = join(tmp, "disk");
let mounted = false;
let server: ServerProcess | undefined;

afterAll(async () => {
  await server?.stop();
  if (mounted) runOk(["umount", mount]);
  rmSync(tmp, { recursive: true, force: true });
});

/** A 503 problem+json with Retry-After, or a 201: nothing else is acceptable while the disk fills. */
function expectAvailableOr503(answer: Answer): void {
  if (answer.status === 201) return;
  expect({ status: answer.status, body: answer.body }).toMatchObject({ status: 503 });
  expect(answer.type).toBe("application/problem+json");
  expect(answer.retryAfter).toBe("5");
}

test("a full disk is a 503 to retry, nothing answered is lost, and the service recovers by itself", async () => {
  if (process.getuid?.() !== 0)
    throw new Error("this test mounts a tmpfs and must run as root (as CI does)");
  mkdirSync(mount);
  runOk(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", mount]);
  mounted = true;
  const data = join(mount, "data");
  server = await startServerProcess({ tls: true, data, args: ["--issue-rate", "0"] });
  const s = server;
  const secret = String(
    (await s.admin("POST", "/v1/groups", { name: "full" }, 201)).provisioningSecret,
  );
  const names = Array.from({ length: 4000 }, (_, i) => `dev-${i}`);
  await s.admin("POST", "/v1/groups/full/devices", { names }, 200);

  // Provision until the disk is full and 20 requests were refused for it.
  const held = new Map<string, HeldIdentity>();
  let refused = 0;
  await inParallel(names.slice(0, 3500), 16, async (name) => {
    if (refused >= 20) return;
    const { answer, held: got } = await provisionOver(s, "full", name, secret);
    expectAvailableOr503(answer);
    if (got) held.set(name, got);
    else refused++;
  });
  expect(refused).toBeGreaterThanOrEqual(20);
  console.log(`disk full: ${held.size} provisioned before ${refused} were refused`);
  // Renewals on the full disk: refused the same way (or answered, where a page was still free).
  const firstHeld = [...held.values()].slice(0, 30);
  await inParallel(firstHeld, 8, async (identity) => {
    const { answer, held: renewed } = await renewOver(s, identity);
    expectAvailableOr503(answer);
    if (renewed) held.set(identity.device, renewed);
  });
  expect(s.output()).toContain("failed: the database's disk is full (SQLITE_FULL)");
  expect(s.output()).not.toContain("internal error");
  expect(s.output()).not.toContain("SQLiteError");

  // Space comes back: the same process provisions and renews again.
  runOk(["mount", "-o", "remount,size=64m", mount]);
  const rest = names.filter((n) => !held.has(n)).slice(0, 200);
  const deadline = Date.now() + 60_000;
  let recovered = false;
  while (!recovered && Date.now() < deadline) {
    const { answer, held: got } = await provisionOver(s, "full", rest[0] as string, secret);
    expectAvailableOr503(answer);
    if (got) {
      held.set(got.device, got);
      recovered = true;
    } else await Bun.sleep(500);
  }
  expect(recovered).toBe(true);
  await inParallel(rest.slice(1), 8, async (name) => {
    const { answer, held: got } = await provisionOver(s, "full", name, secret);
    expect(answer.status).toBe(201);
    if (got) held.set(name, got);
  });
  await inParallel(firstHeld, 8, async (identity) => {
    const current = held.get(identity.device) as HeldIdentity;
    const { answer, held: renewed } = await renewOver(s, current);
    expect(answer.status).toBe(201);
    if (renewed) held.set(identity.device, renewed);
  });
  await s.stop();
  server = undefined;

  // Every certificate a device holds is its current one in the database, which SQLite finds intact.
  const check = spawnSync("sqlite3", [join(data, "iota.db"), "pragma integrity_check"], {
    encoding: "utf8",
  });
  expect(check.stdout.trim()).toBe("ok");
  const db = new Database(join(data, "iota.db"), { readonly: true });
  try {
    const stored = new Map(
      (
        db.query("select name, certificate from devices where group_name = 'full'").all() as {
          name: string;
          certificate: string | null;
        }[]
      ).map((r) => [r.name, r.certificate?.trim()]),
    );
    const lost = [...held.values()].filter((h) => stored.get(h.device) !== h.certificate.trim());
    expect(lost.map((h) => h.device)).toEqual([]);
    expect(held.size).toBeGreaterThan(200);
  } finally {
    db.close();
  }
}, 240_000);
