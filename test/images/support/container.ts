/**
 * Test support: a root filesystem booted under systemd-nspawn with its own init (systemd, or sysvinit
 * running SysV rc or OpenRC), sharing the host's network so its services reach a server on loopback;
 * commands run inside it through nsenter, as an admin logged in on the device would run them.
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** The init the image boots: systemd, or sysvinit (whose rc may be SysV rc or OpenRC). */
export type InitKind = "systemd" | "sysvinit";

/** What a command printed and how it ended. */
export interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of commands inside the image: nothing of the test runner's leaks in. */
const GUEST_ENV = {
  PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
  DEBIAN_FRONTEND: "noninteractive",
  LANG: "C.UTF-8",
};

/** Runs `command` on the host, stdin closed (so a prompt fails instead of waiting). */
export function host(command: string, args: string[], timeoutMs = 120_000): Run {
  const r = spawnSync(command, args, {
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  if (r.error) throw new Error(`${command}: ${r.error.message}`);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Runs one command in the image without booting it (`systemd-nspawn -D ROOT CMD`), as an image
 * builder's hook would: /proc and /dev are there, no init runs. Stdin is closed.
 */
export function inImage(root: string, args: string[], timeoutMs = 300_000): Run {
  const env = Object.entries(GUEST_ENV).flatMap(([k, v]) => ["-E", `${k}=${v}`]);
  return host(
    "systemd-nspawn",
    [
      "--quiet",
      "--register=no",
      "--keep-unit",
      "--console=pipe",
      "-D",
      root,
      ...env,
      "--",
      ...args,
    ],
    timeoutMs,
  );
}

/** Writes the device's config into the image as a factory does (`/etc/iotad/config.json`, root, 0600). */
export function placeConfig(root: string, config: string): void {
  mkdirSync(join(root, "etc/iotad"), { recursive: true });
  writeFileSync(join(root, "etc/iotad/config.json"), config, { mode: 0o600 });
  chmodSync(join(root, "etc/iotad/config.json"), 0o600);
}

const children = (pid: number): number[] => {
  const path = `/proc/${pid}/task/${pid}/children`;
  if (!existsSync(path)) return [];
  return readFileSync(path, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
};

/**
 * The container's init among systemd-nspawn's children: the one that is PID 1 in its own PID namespace. Hint:
 * nspawn first forks a helper that sets the container up and exits; taken for init, every later nsenter failed.
 */
function containerInit(nspawnPid: number): number | undefined {
  return children(nspawnPid).find((pid) => {
    try {
      const nsPids = /^NSpid:\s+(.+)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
      const ids = nsPids?.trim().split(/\s+/) ?? [];
      return ids.length > 1 && ids[ids.length - 1] === "1";
    } catch {
      return false;
    }
  });
}

/** A booted image. */
export class Container {
  private log = "";

  private constructor(
    readonly root: string,
    readonly init: InitKind,
    private readonly nspawn: ChildProcess,
    /** The container's PID 1 as the host sees it. */
    readonly leader: number,
  ) {
    const keep = (chunk: Buffer) => {
      this.log = (this.log + chunk.toString()).slice(-20_000);
    };
    nspawn.stdout?.on("data", keep);
    nspawn.stderr?.on("data", keep);
  }

  /** Boots `root` (`systemd-nspawn --register=no --keep-unit -D ROOT --boot`) and waits for its boot to end. */
  static async boot(root: string, init: InitKind, timeoutMs = 180_000): Promise<Container> {
    const nspawn = spawn(
      "systemd-nspawn",
      ["--quiet", "--register=no", "--keep-unit", "-D", root, "--boot"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    const deadline = Date.now() + timeoutMs;
    let leader: number | undefined;
    while (leader === undefined) {
      if (nspawn.exitCode !== null) throw new Error(`systemd-nspawn exited (${nspawn.exitCode})`);
      if (Date.now() > deadline) throw new Error("systemd-nspawn started no init");
      leader = containerInit(nspawn.pid ?? 0);
      if (leader === undefined) await Bun.sleep(100);
    }
    const container = new Container(root, init, nspawn, leader);
    await container.waitBooted(deadline);
    return container;
  }

  private async waitBooted(deadline: number): Promise<void> {
    for (;;) {
      if (this.init === "systemd") {
        // Hint: "degraded" is booted too (under qemu-user, units using credentials fail).
        const state = this.exec(["systemctl", "is-system-running", "--wait"], 60_000).stdout.trim();
        if (state === "running" || state === "degraded") return;
      } else if (
        // Hint: init writes the runlevel to utmp and its console as it enters it; on a loaded machine the utmp
        // record was once missing for minutes after the console said so, so either one counts.
        / 2$/.test(this.exec(["runlevel"]).stdout.trim()) ||
        /INIT: Entering runlevel: 2/.test(this.log)
      )
        return;
      if (Date.now() > deadline)
        throw new Error(`the ${this.init} image did not boot:\n${this.log}`);
      await Bun.sleep(250);
    }
  }

  /** Runs a command inside the container (its namespaces, its root), stdin closed. */
  exec(args: string[], timeoutMs = 120_000): Run {
    const ns = ["--target", String(this.leader), "--mount", "--uts", "--ipc", "--pid", "--net"];
    const env = Object.entries(GUEST_ENV).map(([k, v]) => `${k}=${v}`);
    return host("nsenter", [...ns, "--", "env", "-i", ...env, ...args], timeoutMs);
  }

  /** `exec`, throwing with the output unless the command exits 0; returns stdout. */
  run(args: string[], timeoutMs?: number): string {
    const r = this.exec(args, timeoutMs);
    if (r.status !== 0)
      throw new Error(`${args.join(" ")} exited ${r.status}:\n${r.stdout}${r.stderr}`);
    return r.stdout;
  }

  /** The console output so far (for failure messages). */
  console(): string {
    return this.log;
  }

  /** Shuts the system down as its init does (poweroff, or runlevel 0); kills it if that hangs. */
  async shutdown(timeoutMs = 60_000): Promise<void> {
    if (this.nspawn.exitCode !== null) return;
    const exited = new Promise((done) => this.nspawn.once("exit", done));
    // Hint: not SIGRTMIN+3 from outside: qemu-user renumbers real-time signals for a foreign init.
    this.exec(this.init === "systemd" ? ["systemctl", "--no-block", "poweroff"] : ["telinit", "0"]);
    const timer = setTimeout(() => process.kill(this.leader, "SIGKILL"), timeoutMs);
    await exited;
    clearTimeout(timer);
  }
}
