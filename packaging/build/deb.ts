/** The Debian package of iotad for one architecture, built with dpkg-deb from the files in packaging/. */

import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Target } from "../../targets/index.ts";
import { PACKAGING_DIR, place, placeAgent } from "./release-files.ts";
import { run } from "./run.ts";

/** The .deb file name Debian tools expect: `iotad_<version>_<arch>.deb`. */
export function debName(version: string, debArch: string): string {
  return `iotad_${version}_${debArch}.deb`;
}

/** What the package depends on: the distribution's Node.js for bundles, glibc for Bun executables. */
export function debDepends(target: Target): string {
  return target.runtime.kind === "node"
    ? `nodejs (>= ${target.runtime.minNode})`
    : "libc6 (>= 2.17)";
}

/** Builds `dist/iotad_<version>_<arch>.deb`; returns its path. */
export function buildDeb(
  dist: string,
  version: string,
  target: Target,
  debArch: string,
  executable: string,
): string {
  const root = mkdtempSync(join(tmpdir(), "iotad-deb-"));
  // Hint: mkdtemp makes 0700; the archive's "./" entry would carry that mode onto the target root.
  chmodSync(root, 0o755);
  try {
    placeAgent(executable, target, root, "usr/bin", "usr/lib");
    place("systemd/iotad.service", join(root, "lib/systemd/system/iotad.service"), 0o644);
    // Hint: the placeholder fails check-config on purpose, so postinst never starts a half-configured agent.
    place("share/config.example.json", join(root, "etc/iotad/config.json"), 0o600);
    place("share/config.md", join(root, "usr/share/doc/iotad/config.md"), 0o644);
    place("deb/copyright", join(root, "usr/share/doc/iotad/copyright"), 0o644);
    for (const script of ["postinst", "prerm", "postrm"])
      place(`deb/${script}`, join(root, "DEBIAN", script), 0o755);
    place("deb/conffiles", join(root, "DEBIAN/conffiles"), 0o644);
    const sizeKb = run("du", ["-sk", "--exclude=DEBIAN", root]).split(/\s/)[0] ?? "0";
    const control = readFileSync(join(PACKAGING_DIR, "deb/control"), "utf8")
      .replace("@VERSION@", version)
      .replace("@ARCH@", debArch)
      .replace("@SIZE@", sizeKb)
      .replace("@DEPENDS@", `Depends: ${debDepends(target)}\n`);
    writeFileSync(join(root, "DEBIAN/control"), control);
    const out = join(dist, debName(version, debArch));
    // gzip members: every dpkg reads them, also the old ones on long-lived device images.
    run("dpkg-deb", ["--root-owner-group", "-Zgzip", "--build", root, out]);
    return out;
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}
