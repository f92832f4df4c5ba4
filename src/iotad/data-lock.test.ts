import { afterAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { acquireDataLock, LOCK_FILE, lockRefusal, lockState } from "./data-lock.ts";
import { type LockHost, nodeLockHost } from "../core/lock-host.ts";
import { nodeDisk } from "./disk.ts";

const tmp = mkdtempSync(join(tmpdir(), "iotad-data-lock-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let folders = 0;
const folder = () => mkdtempSync(join(tmp, `d${folders++}-`));
const NOW = Date.parse("2026-03-01T10:00:00Z");

/**
 * The real system as seen by another process `pid` (pauses counted, not slept), in boot `boot`; start times
 * are unknown unless `startTimes` (the real ones from /proc).
 */
function hostAs(
  pid: number,
  boot?: string,
  startTimes = false,
): LockHost & { pauses: number; pausedMs: number } {
  const real = nodeLockHost(nodeDisk());
  const host = {
    ...real,
    pid,
    pauses: 0,
    pausedMs: 0,
    bootId: () => boot,
    startTime: startTimes ? real.startTime : () => undefined,
    pause: (ms: number) => {
      host.pauses++;
      host.pausedMs += ms;
    },
  };
  return host;
}

/** A pid no process has: one of a process that ran and was reaped. */
function deadPid(): number {
  const done = spawnSync(process.execPath, ["-e", "0"]);
  if (done.pid === undefined) throw new Error("no child");
  return done.pid;
}

const record = (fields: Record<string, unknown>) => `${JSON.stringify(fields)}\n`;

describe("the data folder's lock", () => {
  test("exclusive: a second process is refused with the holder's record; nothing else is created", () => {
    const dir = folder();
    const first = acquireDataLock(
      dir,
      "iotad provision --config /c.json",
      NOW,
      hostAs(process.pid),
    );
    expect(first.ok).toBe(true);
    const path = join(dir, LOCK_FILE);
    if (process.platform !== "win32") expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, "utf8"))).toEqual({
      pid: process.pid,
      command: "iotad provision --config /c.json",
      since: "2026-03-01T10:00:00.000Z",
    });
    const second = acquireDataLock(dir, "iotad renew --config /c.json", NOW, hostAs(deadPid()));
    expect(second).toEqual({
      ok: false,
      holder: {
        pid: process.pid,
        command: "iotad provision --config /c.json",
        since: "2026-03-01T10:00:00.000Z",
      },
    });
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
    expect(lockState(dir, hostAs(deadPid()))).toMatchObject({ kind: "held" });
  });

  test("a lock whose process is gone is taken over, and says whose it was", () => {
    const dir = folder();
    const gone = deadPid();
    writeFileSync(join(dir, LOCK_FILE), record({ pid: gone, command: "iotad run", since: "x" }));
    expect(lockState(dir, hostAs(process.pid))).toEqual({
      kind: "stale",
      stale: {
        holder: { pid: gone, command: "iotad run", since: "x" },
        why: `pid ${gone} no longer runs`,
      },
    });
    const taken = acquireDataLock(dir, "iotad renew", NOW, hostAs(process.pid));
    if (!taken.ok) throw new Error("refused");
    expect(taken.tookOver?.why).toBe(`pid ${gone} no longer runs`);
    expect(JSON.parse(readFileSync(join(dir, LOCK_FILE), "utf8")).pid).toBe(process.pid);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);
  });

  test("stale too: a lock of another boot, of this very pid, or without a record (after waiting for one)", () => {
    // Hint: a file without a record is read 5 times, 4 pauses apart, before it counts as left by a crash.
    const cases: [string, string, LockHost & { pauses: number }, number][] = [
      [
        record({ pid: process.pid, boot: "old" }),
        "before the system restarted",
        hostAs(1, "now"),
        0,
      ],
      [record({ pid: 4242 }), "pid 4242 is now this process", hostAs(4242), 0],
      ["", "holds no record", hostAs(process.pid), 4],
      ['{"pid":', "holds no record", hostAs(process.pid), 4],
    ];
    for (const [text, why, host, pauses] of cases) {
      const dir = folder();
      writeFileSync(join(dir, LOCK_FILE), text);
      const taken = acquireDataLock(dir, "iotad run", NOW, host);
      if (!taken.ok) throw new Error(`refused over ${JSON.stringify(text)}`);
      expect(taken.tookOver?.why).toContain(why);
      expect(host.pauses).toBe(pauses);
    }
    // The same boot and a live pid: held.
    const dir = folder();
    writeFileSync(join(dir, LOCK_FILE), record({ pid: process.pid, boot: "now" }));
    expect(acquireDataLock(dir, "iotad run", NOW, hostAs(1, "now")).ok).toBe(false);
  });

  test("a live holder is told apart by its start time: another boot id does not make it stale, a reused pid does", () => {
    // A holder that runs: this very test process, whose start time /proc knows.
    const live = nodeLockHost(nodeDisk()).startTime(process.pid);
    expect(live).toMatch(/^\d+$/);
    const dir = folder();
    const path = join(dir, LOCK_FILE);
    const held = record({
      pid: process.pid,
      command: "iotad run",
      since: "x",
      boot: "a",
      start: live,
    });
    writeFileSync(path, held);
    // Seen from another mount namespace, where the boot id reads differently (a shell in a container).
    const other = hostAs(1, "b", true);
    expect(acquireDataLock(dir, "iotad provision", NOW, other)).toMatchObject({
      ok: false,
      holder: { pid: process.pid, start: live },
    });
    expect(readFileSync(path, "utf8")).toBe(held);
    // The same pid with another start time is another process: the lock is taken over.
    writeFileSync(path, record({ pid: process.pid, command: "iotad run", since: "x", start: "1" }));
    const taken = acquireDataLock(dir, "iotad provision", NOW, other);
    if (!taken.ok) throw new Error("refused");
    expect(taken.tookOver?.why).toBe(`pid ${process.pid} is now another process`);
    // The record names this process's start time (hostAs(1) reads pid 1's, whatever runs there).
    expect(JSON.parse(readFileSync(path, "utf8")).start).toBe(other.startTime(1));
  });

  test("release removes only this process's own lock, once", () => {
    const dir = folder();
    const path = join(dir, LOCK_FILE);
    const mine = acquireDataLock(dir, "iotad run", NOW, hostAs(process.pid));
    if (!mine.ok) throw new Error("refused");
    expect(mine.lock.release()).toBe(true);
    expect(readdirSync(dir)).toEqual([]);
    expect(mine.lock.release()).toBe(false);

    const again = acquireDataLock(dir, "iotad run", NOW, hostAs(process.pid));
    if (!again.ok) throw new Error("refused");
    // Another process's lock in its place (this one was taken for gone): left alone.
    const other = record({ pid: 1, command: "iotad provision", since: "y" });
    writeFileSync(path, other);
    expect(again.lock.release()).toBe(false);
    expect(readFileSync(path, "utf8")).toBe(other);
  });

  test("a takeover guard left by a process that died is cleared; a live one is waited for", () => {
    const dir = folder();
    writeFileSync(join(dir, LOCK_FILE), record({ pid: deadPid() }));
    writeFileSync(join(dir, `${LOCK_FILE}.takeover`), record({ pid: deadPid() }));
    const host = hostAs(process.pid);
    expect(acquireDataLock(dir, "iotad run", NOW, host).ok).toBe(true);
    expect(readdirSync(dir)).toEqual([LOCK_FILE]);

    const busy = folder();
    writeFileSync(join(busy, LOCK_FILE), record({ pid: deadPid() }));
    writeFileSync(join(busy, `${LOCK_FILE}.takeover`), record({ pid: process.pid }));
    const waiting = hostAs(1);
    expect(() => acquireDataLock(busy, "iotad run", NOW, waiting)).toThrow("keeps changing");
    // A takeover's guard lives through a folder fsync, seconds on a slow SD card: waited out for 10 s.
    expect(waiting.pausedMs).toBeGreaterThanOrEqual(10_000);
    expect(waiting.pausedMs).toBeLessThan(10_200);
  });

  test("processes racing over a stale lock: exactly one takes it, the others are refused naming it", async () => {
    const dir = folder();
    writeFileSync(join(dir, LOCK_FILE), record({ pid: deadPid(), command: "iotad run" }));
    const script = join(tmp, "contender.ts");
    writeFileSync(
      script,
      `import { acquireDataLock } from ${JSON.stringify(join(import.meta.dir, "data-lock.ts"))};
import { nodeLockHost } from ${JSON.stringify(join(import.meta.dir, "../core/lock-host.ts"))};
import { nodeDisk } from ${JSON.stringify(join(import.meta.dir, "disk.ts"))};
import { writeSync } from "node:fs";
const taken = acquireDataLock(process.argv[2], "iotad provision", Date.now(), nodeLockHost(nodeDisk()));
writeSync(1, JSON.stringify(taken.ok ? { won: process.pid, tookOver: taken.tookOver?.why } : { holder: taken.holder.pid }) + "\\n");
// The winner holds the lock until every contender has tried: the test closes its stdin then.
if (taken.ok) process.stdin.on("end", () => taken.lock.release()).resume();
`,
    );
    const children = Array.from({ length: 6 }, () =>
      spawn(process.execPath, [script, dir], { stdio: ["pipe", "pipe", "inherit"] }),
    );
    const closed = children.map((child) => new Promise((done) => child.once("close", done)));
    const answered = children.map((child) => {
      let out = "";
      return new Promise<{ won?: number; tookOver?: string; holder?: number }>((done, fail) => {
        child.stdout.on("data", (d) => {
          out += d;
          if (out.endsWith("\n")) done(JSON.parse(out));
        });
        // Hint: a contender that threw (its error is on stderr) fails the test at once instead of at its time limit.
        child.once("close", (code) =>
          fail(new Error(`a contender exited ${code} without an answer`)),
        );
      });
    });
    const results = await Promise.all(answered);
    for (const child of children) child.stdin.end();
    await Promise.all(closed);
    const won = results.filter((r) => r.won !== undefined);
    expect(won.length).toBe(1);
    expect(won[0]?.tookOver).toContain("no longer runs");
    for (const r of results) if (r.won === undefined) expect(r.holder).toBe(won[0]?.won as number);
    expect(readdirSync(dir)).toEqual([]);
  });

  test("the refusal names the folder, the holder and what to do", () => {
    const run = { pid: 7, command: "iotad run --config /etc/iotad/config.json", since: "t" };
    const provision = { ...run, command: "iotad provision --config /etc/iotad/config.json" };
    expect(lockRefusal("/var/lib/iotad", provision, "iotad provision")).toBe(
      "data folder /var/lib/iotad is in use by pid 7 (iotad provision --config /etc/iotad/config.json, since t); one iotad at a time may use it, so iotad provision changed nothing: wait for it to finish, then try again",
    );
    expect(lockRefusal("/d", run, "iotad renew")).toEndWith(
      "it is the running agent: to renew now, send it SIGHUP (`systemctl reload iotad`, or `kill -HUP 7`)",
    );
    expect(lockRefusal("/d", run, "iotad run")).toContain("an agent already runs for it");
  });
});
