/** The files every device package of iotad carries, laid out in a folder for a tarball or a .deb. */

import { chmodSync, copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Target } from "../../targets/index.ts";

/** The packaging/ folder (units, init scripts, install.sh, deb control files, shared docs). */
export const PACKAGING_DIR = join(import.meta.dir, "..");

/** Copies `from` (relative to packaging/) or an absolute path to `to`, creating folders, with `mode`. */
export function place(from: string, to: string, mode: number): void {
  mkdirSync(dirname(to), { recursive: true });
  copyFileSync(from.startsWith("/") ? from : join(PACKAGING_DIR, from), to);
  chmodSync(to, mode);
}

/**
 * Places the agent under `root` as `<bin>/iotad`: the executable itself, or (Node targets) the
 * launcher script with the bundle at `<lib>/iotad/iotad.mjs`, where the launcher looks for it.
 */
export function placeAgent(
  executable: string,
  target: Target,
  root: string,
  bin: string,
  lib: string,
): void {
  if (target.runtime.kind === "node") {
    place("share/iotad-node-launcher.sh", join(root, bin, "iotad"), 0o755);
    // Hint: executable like any file with a #! line; the launcher is still the way to start it.
    place(executable, join(root, lib, "iotad", "iotad.mjs"), 0o755);
  } else {
    place(executable, join(root, bin, "iotad"), 0o755);
  }
}

/** Lays out the release folder of a tarball: bin/, lib/, config, docs, service files, install.sh. */
export function stageRelease(executable: string, target: Target, folder: string): void {
  placeAgent(executable, target, folder, "bin", "lib");
  place("share/config.example.json", join(folder, "config.example.json"), 0o644);
  place("share/config.md", join(folder, "config.md"), 0o644);
  place("systemd/iotad.service", join(folder, "systemd", "iotad.service"), 0o644);
  place("openrc/iotad", join(folder, "openrc", "iotad"), 0o755);
  place("sysv/iotad", join(folder, "sysv", "iotad"), 0o755);
  place("install.sh", join(folder, "install.sh"), 0o755);
}
