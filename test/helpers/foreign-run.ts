/**
 * Test support: runs a packaged iotad the way its device would, from the unpacked release tarball:
 * natively, under qemu-user with a foreign sysroot, or on Debian's own 32-bit Node.js
 * (unpacked by scripts/foreign-node.sh: i386 in a chroot, natively, or under qemu-i386 on a kernel whose 32-bit
 * emulation is off; armhf under qemu-arm; armel
 * under qemu-arm as an ARMv6 CPU, `-cpu arm1176`).
 */

import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { basename, join, relative } from "node:path";
import type { Target } from "../../targets/index.ts";

/** Where scripts/foreign-node.sh unpacks Debian's Node.js for each architecture. */
export function foreignNodeDir(repo: string, debArch: string): string {
  return join(
    process.env.IOTA_FOREIGN_NODE_DIR ?? join(repo, "node_modules/.cache/foreign-node"),
    debArch,
  );
}

/** A place for one target's release, config and data, seen by the host at `host` and by iotad at `guest`. */
export interface Sandbox {
  host: string;
  guest: string;
  /** The command line that runs `bin/iotad` of the release unpacked at `<host>/release` with `args`. */
  command(args: string[]): { file: string; args: string[]; env: NodeJS.ProcessEnv };
  remove(): void;
}

/** Throws a clear message when a tool the runner needs is missing, naming the package that brings it. */
function need(path: string, hint: string): void {
  if (!existsSync(path)) throw new Error(`${path} is missing: ${hint}`);
}

function which(tool: string): string {
  for (const dir of (process.env.PATH ?? "/usr/bin:/bin").split(":"))
    if (existsSync(join(dir, tool))) return join(dir, tool);
  throw new Error(
    `${tool} is not installed: apt-get install qemu-user (CI installs it in .ci/run)`,
  );
}

/**
 * A fresh folder inside the unpacked Node.js tree of `debArch` (checked complete by {@link nodeEmulator}), as
 * this test sees it (`host`) and as a program chrooted into the tree does (`guest`).
 */
function folderInTree(
  repo: string,
  debArch: string,
  prefix: string,
): { tree: string; host: string; guest: string } {
  const tree = foreignNodeDir(repo, debArch);
  mkdirSync(join(tree, "tmp"), { recursive: true, mode: 0o1777 });
  const host = mkdtempSync(join(tree, "tmp", prefix));
  return { tree, host, guest: `/${relative(tree, host)}` };
}

/** Makes the sandbox for `target` (whose runner must not be "none"). */
export function makeSandbox(repo: string, target: Target, tmp: string): Sandbox {
  const runner = target.runner;
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  if (runner.kind === "foreign-node" && nodeEmulator(repo, target) === undefined) {
    // Debian's Node loads builtins from /usr/share/nodejs by absolute path: run it inside its own tree.
    const { tree, host, guest } = folderInTree(repo, runner.debArch, `iotad-${target.name}-`);
    return {
      host,
      guest,
      command: (args) => ({
        file: "/usr/sbin/chroot",
        args: [tree, "/bin/sh", `${guest}/release/bin/iotad`, ...args],
        env: { PATH: "/usr/bin:/bin" },
      }),
      remove: () => rmSync(host, { recursive: true, force: true }),
    };
  }
  const host = mkdtempSync(join(tmp, `iotad-${target.name}-`));
  const launcher = join(host, "release/bin/iotad");
  const remove = () => rmSync(host, { recursive: true, force: true });
  if (runner.kind === "native")
    return { host, guest: host, command: (args) => ({ file: launcher, args, env }), remove };
  if (runner.kind === "qemu") {
    need(
      runner.sysroot,
      `apt-get install libc6-${target.name.replace("linux-", "")}-cross (the ${target.name} sysroot for ${runner.qemu})`,
    );
    const qemu = which(runner.qemu);
    return {
      host,
      guest: host,
      command: (args) => ({ file: qemu, args: ["-L", runner.sysroot, launcher, ...args], env }),
      remove,
    };
  }
  if (runner.kind === "foreign-node") {
    // The release's own launcher runs on the host's shell and starts Debian's node under qemu.
    const node = join(host, "node-under-qemu");
    const argv = qemuNodeArgv(repo, target, runner.qemuCpu);
    writeFileSync(node, `#!/bin/sh\nexec ${argv.join(" ")} "$@"\n`, { mode: 0o755 });
    return {
      host,
      guest: host,
      command: (args) => ({
        file: "/bin/sh",
        args: [launcher, ...args],
        env: { ...env, IOTAD_NODE: node },
      }),
      remove,
    };
  }
  throw new Error(`target ${target.name} is not run by the tests (runner ${runner.kind})`);
}

/** A folder where a Node.js bundle runs on a foreign-node target's own Node.js, as a host of that platform runs it. */
export interface NodeBox {
  /** The folder as this test sees it (files the program reads go here) and as the program sees it. */
  host: string;
  guest: string;
  /** The command line that runs the bundle copied in as `<guest>/<name>` with `args`, HOME in the folder. */
  command(args: string[]): { file: string; args: string[]; env: NodeJS.ProcessEnv };
  remove(): void;
}

/**
 * Copies `bundle` into a fresh folder and runs it on Debian's Node.js of `target`: in a chroot of the unpacked
 * packages (i386, natively), or under its qemu (armhf, armel as its CPU model).
 */
export function makeNodeBox(repo: string, target: Target, bundle: string, tmp: string): NodeBox {
  const runner = target.runner;
  if (runner.kind !== "foreign-node")
    throw new Error(`target ${target.name} does not run on a foreign Node.js`);
  const name = basename(bundle);
  const envIn = (guest: string): NodeJS.ProcessEnv => ({
    PATH: "/usr/bin:/bin",
    HOME: guest,
    XDG_CONFIG_HOME: `${guest}/xdg`,
  });
  if (nodeEmulator(repo, target) === undefined) {
    const { tree, host, guest } = folderInTree(repo, runner.debArch, `node-${target.name}-`);
    copyFileSync(bundle, join(host, name));
    return {
      host,
      guest,
      command: (args) => ({
        file: "/usr/sbin/chroot",
        args: [tree, "/usr/bin/node", `${guest}/${name}`, ...args],
        env: envIn(guest),
      }),
      remove: () => rmSync(host, { recursive: true, force: true }),
    };
  }
  const host = mkdtempSync(join(tmp, `node-${target.name}-`));
  copyFileSync(bundle, join(host, name));
  const [file = "", ...node] = qemuNodeArgv(repo, target, runner.qemuCpu);
  return {
    host,
    guest: host,
    command: (args) => ({ file, args: [...node, join(host, name), ...args], env: envIn(host) }),
    remove: () => rmSync(host, { recursive: true, force: true }),
  };
}

/**
 * The command line that runs Debian's node of a foreign-node `target` under its qemu (arguments to
 * node follow), as the CPU model `cpu` (e.g. `arm1176`; qemu's newest when absent).
 */
export function qemuNodeArgv(repo: string, target: Target, cpu: string | undefined): string[] {
  const runner = target.runner;
  const emulator = nodeEmulator(repo, target);
  if (runner.kind !== "foreign-node" || emulator === undefined)
    throw new Error(`target ${target.name} does not run Node.js under qemu`);
  const tree = foreignNodeDir(repo, runner.debArch);
  const libs = ["lib", "usr/lib"].map((d) => join(tree, d, multiarch(runner.debArch))).join(":");
  return [
    which(emulator),
    ...(cpu === undefined ? [] : ["-cpu", cpu]),
    "-L",
    tree,
    "-E",
    `LD_LIBRARY_PATH=${libs}`,
    join(tree, "usr/bin/node"),
  ];
}

/** The qemu-user emulator of each architecture whose Node.js the kernel may run itself. */
const NATIVE_FALLBACK: Record<string, string> = { i386: "qemu-i386" };
const nativeRuns = new Map<string, boolean>();

/**
 * The qemu-user emulator that runs `target`'s Node.js: its runner's, or none when the kernel runs that Node.js
 * itself. An x86-64 kernel runs i386 programs only with its 32-bit emulation on (`ia32_emulation=off` on its
 * command line, or a kernel built so, turns it off: exec fails with ENOEXEC); then i386 runs under qemu-i386,
 * the same Debian binaries instruction by instruction, as armhf and armel always do.
 */
export function nodeEmulator(repo: string, target: Target): string | undefined {
  const runner = target.runner;
  if (runner.kind !== "foreign-node") return undefined;
  const tree = foreignNodeDir(repo, runner.debArch);
  need(
    join(tree, ".complete"),
    `run scripts/foreign-node.sh ${runner.debArch} (as root) to unpack Debian's ${runner.debArch} Node.js`,
  );
  if (runner.qemu !== undefined) return runner.qemu;
  let native = nativeRuns.get(tree);
  if (native === undefined) {
    native = spawnSync("/usr/sbin/chroot", [tree, "/usr/bin/node", "--version"]).status === 0;
    nativeRuns.set(tree, native);
  }
  if (native) return undefined;
  const emulator = NATIVE_FALLBACK[runner.debArch];
  if (emulator === undefined)
    throw new Error(
      `this kernel cannot run ${runner.debArch} programs, and no qemu-user emulator is known for them`,
    );
  return emulator;
}

/**
 * Whether `target`'s Node.js, as the tests run it, survives a signal and runs its handler. Always checked where a
 * runner names its emulator (armhf, armel) or the kernel runs it (i386); only i386 under qemu-i386 (see
 * {@link nodeEmulator}) is probed, as qemu-i386 makes Debian's i386 Node.js abort on any signal ("Entering the V8
 * API without proper locking"), which no device has.
 */
export function nodeTakesSignals(repo: string, target: Target): boolean {
  const runner = target.runner;
  if (runner.kind !== "foreign-node" || runner.qemu !== undefined) return true;
  if (nodeEmulator(repo, target) === undefined) return true;
  const script = "process.on('SIGTERM', () => process.exit(0)); setInterval(() => {}, 1000);";
  const probe = spawnSync("timeout", [
    "--preserve-status",
    "-s",
    "TERM",
    "5",
    ...qemuNodeArgv(repo, target, runner.qemuCpu),
    "-e",
    script,
  ]);
  return probe.status === 0;
}

/** Debian's multiarch triplet of an architecture. */
function multiarch(debArch: string): string {
  const triplets: Record<string, string> = {
    i386: "i386-linux-gnu",
    armhf: "arm-linux-gnueabihf",
    armel: "arm-linux-gnueabi",
    arm64: "aarch64-linux-gnu",
    amd64: "x86_64-linux-gnu",
  };
  const triplet = triplets[debArch];
  if (triplet === undefined) throw new Error(`no multiarch triplet known for ${debArch}`);
  return triplet;
}
