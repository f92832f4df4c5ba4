/**
 * Test support: what the image tests need from the host (root, mmdebstrap, systemd-nspawn, lintian,
 * qemu-user-static with binfmt for arm64), checked before anything runs. A missing piece fails with
 * one line naming the Debian package; nothing is skipped.
 */

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { freePort } from "../../helpers/free-port.ts";
export { freePort };

/** Host commands of the image tests, each with the Debian package that brings it. */
const TOOLS: Record<string, string> = {
  mmdebstrap: "mmdebstrap",
  "systemd-nspawn": "systemd-container",
  nsenter: "util-linux",
  "dpkg-deb": "dpkg",
  lintian: "lintian",
  mosquitto_sub: "mosquitto-clients",
  xz: "xz-utils",
};

function onPath(command: string): boolean {
  return (process.env.PATH ?? "/usr/sbin:/usr/bin:/sbin:/bin")
    .split(":")
    .some((dir) => existsSync(`${dir}/${command}`));
}

/** Throws one clear line naming the Debian package when one of `commands` is missing. */
export function requireTools(...commands: (keyof typeof TOOLS)[]): void {
  for (const command of commands) {
    if (!onPath(command))
      throw new Error(
        `${command} is missing: apt-get install ${TOOLS[command]} (listed in test/setup/apt-packages.txt)`,
      );
  }
}

const BINFMT = "/proc/sys/fs/binfmt_misc";

/**
 * Makes sure arm64 executables run through qemu-aarch64-static by binfmt_misc (needed to build and
 * boot an arm64 image): mounts binfmt_misc and enables Debian's qemu-aarch64 entry when they are not.
 * Hint: the entry has the F flag, so the interpreter also works inside containers and chroots.
 */
export function requireArm64Binfmt(): void {
  if (!onPath("qemu-aarch64-static"))
    throw new Error(
      "qemu-aarch64-static is missing: apt-get install qemu-user-static binfmt-support",
    );
  if (!existsSync(`${BINFMT}/register`)) {
    const mount = spawnSync("mount", ["-t", "binfmt_misc", "binfmt_misc", BINFMT], {
      encoding: "utf8",
    });
    if (mount.status !== 0)
      throw new Error(`binfmt_misc is not mounted and cannot be: ${mount.stderr.trim()}`);
  }
  const entry = `${BINFMT}/qemu-aarch64`;
  if (!existsSync(entry) || !readFileSync(entry, "utf8").startsWith("enabled")) {
    const enable = spawnSync("update-binfmts", ["--enable", "qemu-aarch64"], { encoding: "utf8" });
    if (enable.error || !existsSync(entry) || !readFileSync(entry, "utf8").startsWith("enabled"))
      throw new Error(
        `binfmt_misc has no enabled qemu-aarch64 entry: apt-get install qemu-user-static binfmt-support, then update-binfmts --enable qemu-aarch64 (${enable.error?.message ?? enable.stderr.trim()})`,
      );
  }
}

/** Throws one clear line when the host cannot build and boot images: not root, or a tool missing. */
export function requireImageTools(): void {
  if (process.getuid?.() !== 0)
    throw new Error(
      "the image tests need root (mmdebstrap and systemd-nspawn build and boot root filesystems)",
    );
  requireTools(...Object.keys(TOOLS));
}
