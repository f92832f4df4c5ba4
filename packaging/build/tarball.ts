/** The device-image tarball of one Linux target: iotad, config, service files and install.sh in one folder. */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Target } from "../../targets/index.ts";
import { stageRelease } from "./release-files.ts";
import { run } from "./run.ts";

/** The tarball's file name, also the name of the one folder inside it. */
export function tarballName(version: string, target: Target): string {
  return `iotad-${version}-${target.name}.tar.gz`;
}

/** Builds `dist/iotad-<version>-<target>.tar.gz` from the agent's `executable`; returns its path. */
export function buildTarball(
  dist: string,
  version: string,
  target: Target,
  executable: string,
): string {
  const name = tarballName(version, target);
  const folderName = name.replace(/\.tar\.gz$/, "");
  const stage = mkdtempSync(join(tmpdir(), "iotad-tar-"));
  try {
    stageRelease(executable, target, join(stage, folderName));
    const out = join(dist, name);
    // Owned by root in the archive, whoever builds it: image builders unpack as root.
    run("tar", [
      "--owner=0",
      "--group=0",
      "--numeric-owner",
      "--sort=name",
      "-C",
      stage,
      "-czf",
      out,
      folderName,
    ]);
    return out;
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}
