/**
 * Test support: minimal Debian root filesystems made by mmdebstrap (Debian's own tool, from Debian's
 * mirror), cached as tarballs under node_modules/.cache/iota-images/ keyed by what went into them,
 * built side by side on first use, and unpacked fresh for every test.
 */

import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
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

/** minbase with systemd as init (what the images use). */
export const SYSTEMD_AMD64: ImageSpec = {
  name: "systemd",
  arch: "amd64",
  include: ["systemd", "systemd-sysv", "dbus"],
};
/** minbase with sysvinit and SysV rc. */
export const SYSVINIT_AMD64: ImageSpec = {
  name: "sysvinit",
  arch: "amd64",
  include: ["sysvinit-core"],
};
/** minbase with sysvinit running OpenRC. */
export const OPENRC_AMD64: ImageSpec = {
  name: "openrc",
  arch: "amd64",
  include: ["sysvinit-core", "openrc"],
};
/** The systemd image for arm64 (built and booted through qemu-user and binfmt_misc). */
export const SYSTEMD_ARM64: ImageSpec = { ...SYSTEMD_AMD64, arch: "arm64" };
/** Every image the suite boots: the first image test starts building all missing ones at once. */
export const ALL_IMAGES = [SYSTEMD_AMD64, SYSVINIT_AMD64, OPENRC_AMD64, SYSTEMD_ARM64];

/** The Debian release every image is made from (the one CI runs on). */
const SUITE = "bookworm";

/** Where the image tarballs are kept between runs (beside the foreign Node.js of the dist test). */
export function imageCacheDir(): string {
  return (
    process.env.IOTA_IMAGE_CACHE ??
    join(import.meta.dir, "../../../node_modules/.cache/iota-images")
  );
}

function tarballPath(spec: ImageSpec): string {
  const key = createHash("sha256")
    .update(JSON.stringify([SUITE, "minbase", spec.arch, [...spec.include].sort()]))
    .digest("hex")
    .slice(0, 16);
  return join(imageCacheDir(), `${spec.name}-${spec.arch}-${key}.tar`);
}

/** Builds in this test process, by tarball path (test files share the module). */
const building = new Map<string, Promise<string>>();

/** Runs mmdebstrap for `spec` into `tarball`; rejects with its last lines of output. */
function build(spec: ImageSpec, tarball: string): Promise<string> {
  mkdirSync(imageCacheDir(), { recursive: true });
  // Hint: built beside its final name, then renamed: a parallel run never sees half a tarball.
  const partial = tarball.replace(/\.tar$/, `.partial-${process.pid}.tar`);
  const args = ["--quiet", "--variant=minbase", `--arch=${spec.arch}`];
  args.push(`--include=${spec.include.join(",")}`, SUITE, partial);
  return new Promise((resolve, reject) => {
    const child = spawn("mmdebstrap", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const fail = (why: string) => {
      rmSync(partial, { force: true });
      const tail = why.trim().split("\n").slice(-8).join("\n");
      reject(new Error(`mmdebstrap could not make the ${spec.name} ${spec.arch} image:\n${tail}`));
    };
    child.once("error", (error) => fail(error.message));
    child.once("close", (code) => {
      if (code !== 0) return fail(stderr || `exit ${code}`);
      renameSync(partial, tarball);
      resolve(tarball);
    });
  });
}

/** The cached tarball of `spec`, made with mmdebstrap when missing (~25 s; ~75 s for arm64 under qemu). */
export function imageTarball(spec: ImageSpec): Promise<string> {
  const tarball = tarballPath(spec);
  if (existsSync(tarball)) return Promise.resolve(tarball);
  let made = building.get(tarball);
  if (!made) {
    made = build(spec, tarball);
    building.set(tarball, made);
    // Hint: a failed build is tried again by the next caller (e.g. once binfmt is set up).
    made.catch(() => building.delete(tarball));
  }
  return made;
}

/**
 * Starts building every missing image of `specs` at once (mmdebstrap mostly waits on the mirror
 * and dpkg), without waiting; each test then awaits its own in {@link unpackImage}.
 */
export function prefetchImages(specs: ImageSpec[]): void {
  for (const spec of specs) {
    // Hint: a foreign image needs its qemu binfmt entry; its own test sets that up, or says why not.
    const binfmt = `/proc/sys/fs/binfmt_misc/qemu-${spec.arch === "arm64" ? "aarch64" : "x86_64"}`;
    if (
      spec.arch !== "amd64" &&
      !(existsSync(binfmt) && readFileSync(binfmt, "utf8").startsWith("enabled"))
    )
      continue;
    imageTarball(spec).catch(() => {});
  }
}

/** Unpacks a fresh copy of the image into a new folder under the system temp folder; resolves with it. */
export async function unpackImage(spec: ImageSpec): Promise<string> {
  const tarball = await imageTarball(spec);
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
