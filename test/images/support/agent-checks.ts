/**
 * Test support: the checks every booted image goes through, whatever its init: the packaged agent
 * provisions against the real server, answers /healthz, runs as the iotad user with the packaged
 * environment, renews on reload, announces offline on stop, and a purge leaves nothing behind.
 */

import { expect } from "bun:test";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Container } from "./container.ts";
import type { FleetServer } from "./fleet-server.ts";

/** Polls `probe` every 250 ms until it returns a value; throws `what` after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 90_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(250);
  }
}

/** The agent's /status, or undefined while it does not answer. */
export async function agentStatus(port: number): Promise<Record<string, unknown> | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/status`);
    return (await res.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Waits until the agent on `port` holds a certificate and /healthz answers 200; returns its serial. */
export async function expectProvisioned(
  server: FleetServer,
  device: string,
  port: number,
): Promise<string> {
  const serial = await waitFor(`${device} to be provisioned`, async () => {
    const status = await agentStatus(port);
    return status?.state === "ready" ? String(status.serial) : undefined;
  });
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  const record = await server.device(device);
  expect([record.state, record.serial]).toEqual(["provisioned", serial]);
  return serial;
}

/** Runs `reload` (the init's reload command) and waits until server and agent agree on a new serial. */
export async function expectRenewedBy(
  reload: () => void,
  server: FleetServer,
  device: string,
  port: number,
  before: string,
): Promise<string> {
  reload();
  const serial = await waitFor(`${device} to renew after reload`, async () => {
    const record = await server.device(device);
    return record.serial !== before ? String(record.serial) : undefined;
  });
  await waitFor("the agent to show the new serial", async () =>
    (await agentStatus(port))?.serial === serial ? true : undefined,
  );
  return serial;
}

/** Descendants of `pid` on the host (the container's processes, seen from outside). */
function descendants(pid: number): number[] {
  const path = `/proc/${pid}/task/${pid}/children`;
  if (!existsSync(path)) return [];
  const direct = readFileSync(path, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  return direct.flatMap((child) => [child, ...descendants(child)]);
}

/** The host pid of the container's `iotad run` process. */
export function agentPid(container: Container): number {
  const pid = descendants(container.leader).find((p) => {
    try {
      // Hint: `/usr/bin/iotad run`, also behind qemu's binfmt wrapper; not supervise-daemon's argv.
      const argv = readFileSync(`/proc/${p}/cmdline`, "utf8").split("\0");
      return argv.some((arg, i) => arg === "/usr/bin/iotad" && argv[i + 1] === "run");
    } catch {
      return false;
    }
  });
  if (pid === undefined) throw new Error("no iotad run process in the container");
  return pid;
}

/** Checks the agent runs as the image's iotad user (not root) with BUN_GC_TIMER_DISABLE=1 set. */
export function expectLeastPrivilege(container: Container): void {
  const pid = agentPid(container);
  const passwd = readFileSync(join(container.root, "etc/passwd"), "utf8");
  const uid = /^iotad:[^:]*:(\d+):/m.exec(passwd)?.[1] ?? "(no iotad user)";
  expect(uid).not.toBe("0");
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  // Real, effective, saved and file-system uid all the iotad user's.
  expect(/^Uid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/)).toEqual([uid, uid, uid, uid]);
  const env = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
  expect(env).toContain("BUN_GC_TIMER_DISABLE=1");
}

/** Paths in the image whose name mentions iotad (the purge check), `except` left out. */
export function iotadPaths(root: string, except: string[] = []): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(join(root, dir), { withFileTypes: true })) {
      const path = `${dir}/${entry.name}`;
      if (entry.name.includes("iotad") && !except.includes(path)) found.push(path);
      if (entry.isDirectory() && !["/proc", "/sys", "/dev", "/run"].includes(path)) walk(path);
    }
  };
  walk("");
  return found;
}

/** After `dpkg --purge iotad`: no package, no file, no user or group, no boot link, nothing running. */
export function expectPurged(container: Container, except: string[] = []): void {
  expect(container.exec(["dpkg-query", "-W", "iotad"]).status).not.toBe(0);
  expect(iotadPaths(container.root, except)).toEqual([]);
  // /run is the booted system's own tmpfs, out of the host's sight: look from inside.
  expect(container.exec(["find", "/run", "-name", "*iotad*"]).stdout.trim()).toBe("");
  for (const db of ["passwd", "group", "shadow", "gshadow"])
    expect(`${db}: ${readFileSync(join(container.root, "etc", db), "utf8")}`).not.toMatch(
      /^iotad:/m,
    );
  expect(() => agentPid(container)).toThrow();
}
