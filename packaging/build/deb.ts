/** The Debian package of iotad for one architecture, built with dpkg-deb from the files in packaging/. */

import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import type { Target } from "../../targets/index.ts";
import { changelogGz, controlText, writeMd5sums } from "./deb-meta.ts";
import { PACKAGING_DIR, place, placeAgent } from "./release-files.ts";
import { RELEASE_XZ_LEVEL, type XzLevel, run, runAsync } from "./run.ts";

/** The .deb file name Debian tools expect: `iotad_<version>_<arch>.deb`. */
export function debName(version: string, debArch: string): string {
  return `iotad_${version}_${debArch}.deb`;
}

export { debDepends } from "./deb-meta.ts";

/**
 * Files under /etc that dpkg keeps when the admin changed them. Hint: /etc/iotad/config.json is not
 * one: a factory writes it before installing, and a conffile would stop `dpkg -i` at a prompt.
 */
const CONFFILES = ["/etc/init.d/iotad"];

/** Writes `text` (or bytes) to `root/path` with `mode`, creating folders. */
function put(root: string, path: string, data: string | Buffer, mode: number): void {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), data);
  chmodSync(join(root, path), mode);
}

/** Lays out the package's files and DEBIAN/ under `root`. */
function stageDeb(
  root: string,
  version: string,
  target: Target,
  debArch: string,
  executable: string,
): void {
  placeAgent(executable, target, root, "usr/bin", "usr/lib");
  place("systemd/iotad.service", join(root, "lib/systemd/system/iotad.service"), 0o644);
  // SysV init and OpenRC (which runs LSB scripts too) get the same script.
  place("sysv/iotad", join(root, "etc/init.d/iotad"), 0o755);
  // Hint: postinst copies it to /etc/iotad/config.json only when no config is there yet.
  place("share/config.example.json", join(root, "usr/share/iotad/config.example.json"), 0o644);
  place("share/config.md", join(root, "usr/share/doc/iotad/config.md"), 0o644);
  place("deb/copyright", join(root, "usr/share/doc/iotad/copyright"), 0o644);
  put(root, "usr/share/doc/iotad/changelog.gz", changelogGz(version), 0o644);
  const manPage = readFileSync(join(PACKAGING_DIR, "share/iotad.8"), "utf8").replace(
    "@VERSION@",
    version,
  );
  put(root, "usr/share/man/man8/iotad.8.gz", gzipSync(manPage, { level: 9 }), 0o644);
  for (const script of ["postinst", "prerm", "postrm"])
    place(`deb/${script}`, join(root, "DEBIAN", script), 0o755);
  put(root, "DEBIAN/conffiles", `${CONFFILES.join("\n")}\n`, 0o644);
  writeMd5sums(root, CONFFILES);
  const sizeKb = run("du", ["-sk", "--exclude=DEBIAN", root]).split(/\s/)[0] ?? "0";
  put(root, "DEBIAN/control", controlText(version, target, debArch, sizeKb), 0o644);
}

/** Builds `dist/iotad_<version>_<arch>.deb`; resolves with its path. */
export async function buildDeb(
  dist: string,
  version: string,
  target: Target,
  debArch: string,
  executable: string,
  xzLevel: XzLevel = RELEASE_XZ_LEVEL,
): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), "iotad-deb-"));
  // Hint: mkdtemp makes 0700; the archive's "./" entry would carry that mode onto the target root.
  chmodSync(root, 0o755);
  try {
    stageDeb(root, version, target, debArch, executable);
    const out = join(dist, debName(version, debArch));
    // xz members (dpkg >= 1.15.6, every supported Debian and Ubuntu): ~25% smaller than gzip.
    await runAsync("dpkg-deb", [
      "--root-owner-group",
      "-Zxz",
      `-z${xzLevel}`,
      "--build",
      root,
      out,
    ]);
    return out;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
