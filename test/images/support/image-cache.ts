/**
 * Test support: minimal Debian root filesystems made by mmdebstrap (Debian's own tool, from Debian's
 * mirror), cached as tarballs under node_modules/.cache/iota-images/ keyed by what went into them, and
 * unpacked fresh for every test.
 */

import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** One image: `mmdebstrap --variant=minbase --arch=ARCH --include=PACKAGES SUITE`. */
export interface ImageSpec {
  /** A short name for the cache file and messages, e.g. `systemd`. */
  name: string;
  arch: "amd64" | "arm64";
  /** Packages on top of minbase (Essential + apt). */
  include: string[];
}

/** The Debian release every image is made from (the one CI runs on). */
const SUITE = "bookworm";

/** Where the image tarballs are kept between runs (beside the foreign Node.js of the dist test). */
export function imageCacheDir(): string {
  return (
    process.env.IOTA_IMAGE_CACHE ??
    join(import.meta.dir, "../../../node_modules/.cache/iota-images")
  );
}

/** The cached tarball of `spec`, made with mmdebstrap when missing (~25 s; ~75 s for arm64 under qemu). */
export function imageTarball(spec: ImageSpec): string {
  const key = createHash("sha256")
    .update(JSON.stringify([SUITE, "minbase", spec.arch, [...spec.include].sort()]))
    .digest("hex")
    .slice(0, 16);
  const dir = imageCacheDir();
  const tarball = join(dir, `${spec.name}-${spec.arch}-${key}.tar`);
  if (existsSync(tarball)) return tarball;
  mkdirSync(dir, { recursive: true });
  // Hint: built beside its final name, then renamed: a parallel run never sees half a tarball.
  const partial = join(dir, `${spec.name}-${spec.arch}-${key}.partial-${process.pid}.tar`);
  const made = spawnSync(
    "mmdebstrap",
    [
      "--quiet",
      "--variant=minbase",
      `--arch=${spec.arch}`,
      `--include=${spec.include.join(",")}`,
    ].concat([SUITE, partial]),
    { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] },
  );
  if (made.status !== 0) {
    rmSync(partial, { force: true });
    const tail = `${made.error?.message ?? ""}${made.stderr}`.trim().split("\n").slice(-8);
    throw new Error(
      `mmdebstrap could not make the ${spec.name} ${spec.arch} image:\n${tail.join("\n")}`,
    );
  }
  renameSync(partial, tarball);
  return tarball;
}

/** Unpacks a fresh copy of the image into a new folder under the system temp folder; returns it. */
export function unpackImage(spec: ImageSpec): string {
  const tarball = imageTarball(spec);
  const root = mkdtempSync(join(tmpdir(), `iota-image-${spec.name}-`));
  // Hint: numeric owners, or tar would map the image's users onto this machine's user names.
  const untar = spawnSync(
    "tar",
    ["--numeric-owner", "--xattrs", "--xattrs-include=*", "-C", root, "-xf", tarball],
    { encoding: "utf8" },
  );
  if (untar.status !== 0) throw new Error(`tar could not unpack ${tarball}: ${untar.stderr}`);
  return root;
}
