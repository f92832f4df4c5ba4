/** The device-image tarball of one Linux target: iotad, config, service files and install.sh in one folder. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Target } from "../../targets/index.ts";
import { stageRelease } from "./release-files.ts";
import { RELEASE_XZ_LEVEL, type XzLevel, runAsync } from "./run.ts";

/** The tarball's file name; the one folder inside it is the name without `.tar.xz`. */
export function tarballName(version: string, target: Target): string {
  return `iotad-${version}-${target.name}.tar.xz`;
}

/**
 * Builds `dist/iotad-<version>-<target>.tar.xz` from the agent's `executable`; resolves with its path.
 * xz, not gzip: the executables shrink to ~40 MB instead of ~54 MB, and every tar that unpacks
 * images (GNU tar, BusyBox tar, bsdtar) reads xz.
 */
export async function buildTarball(
  dist: string,
  version: string,
  target: Target,
  executable: string,
  xzLevel: XzLevel = RELEASE_XZ_LEVEL,
): Promise<string> {
  const name = tarballName(version, target);
  const folderName = name.replace(/\.tar\.xz$/, "");
  const stage = mkdtempSync(join(tmpdir(), "iotad-tar-"));
  try {
    stageRelease(executable, target, join(stage, folderName));
    const out = join(dist, name);
    // Owned by root in the archive, whoever builds it: image builders unpack as root.
    await runAsync("tar", [
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      "--sort=name",
      `--use-compress-program=xz -${xzLevel}`,
      "-C",
      stage,
      "-cf",
      out,
      folderName,
    ]);
    return out;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
