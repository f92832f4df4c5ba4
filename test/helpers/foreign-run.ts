/**
 * Test support: runs a packaged iotad the way its device would, from the unpacked release tarball:
 * natively, under qemu-user with a foreign sysroot, or on Debian's own 32-bit Node.js
 * (unpacked by scripts/foreign-node.sh: i386 in a chroot, natively; armhf under qemu-arm; armel
 * under qemu-arm as an ARMv6 CPU, `-cpu arm1176`).
 */

import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
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

/** Makes the sandbox for `target` (whose runner must not be "none"). */
export function makeSandbox(repo: string, target: Target, tmp: string): Sandbox {
  const runner = target.runner;
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NODE_OPTIONS;
  if (runner.kind === "foreign-node" && runner.qemu === undefined) {
    // Debian's Node loads builtins from /usr/share/nodejs by absolute path: run it inside its own tree.
    const tree = foreignNodeDir(repo, runner.debArch);
    need(
      join(tree, ".complete"),
      `run scripts/foreign-node.sh ${runner.debArch} (as root) to unpack Debian's ${runner.debArch} Node.js`,
    );
    mkdirSync(join(tree, "tmp"), { recursive: true, mode: 0o1777 });
    const host = mkdtempSync(join(tree, "tmp", `iotad-${target.name}-`));
    const guest = `/${relative(tree, host)}`;
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
  if (runner.kind === "foreign-node" && runner.qemu !== undefined) {
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

/**
 * The command line that runs Debian's node of a foreign-node `target` under its qemu (arguments to
 * node follow), as the CPU model `cpu` (e.g. `arm1176`; qemu's newest when absent).
 */
export function qemuNodeArgv(repo: string, target: Target, cpu: string | undefined): string[] {
  const runner = target.runner;
  if (runner.kind !== "foreign-node" || runner.qemu === undefined)
    throw new Error(`target ${target.name} does not run Node.js under qemu`);
  const tree = foreignNodeDir(repo, runner.debArch);
  need(
    join(tree, ".complete"),
    `run scripts/foreign-node.sh ${runner.debArch} (as root) to unpack Debian's ${runner.debArch} Node.js`,
  );
  const libs = ["lib", "usr/lib"].map((d) => join(tree, d, multiarch(runner.debArch))).join(":");
  return [
    which(runner.qemu),
    ...(cpu === undefined ? [] : ["-cpu", cpu]),
    "-L",
    tree,
    "-E",
    `LD_LIBRARY_PATH=${libs}`,
    join(tree, "usr/bin/node"),
  ];
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
