/** The metadata of the iotad .deb: control fields, md5sums, and the changelog whose top entry must name the version built. */

import { createHash } from "node:crypto";
import { lstatSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import type { Target } from "../../targets/index.ts";
import { PACKAGING_DIR } from "./release-files.ts";

/** What the package depends on: the distribution's Node.js for bundles, glibc for Bun executables; passwd for useradd. */
export function debDepends(target: Target): string {
  const runtime =
    target.runtime.kind === "node" ? `nodejs (>= ${target.runtime.minNode})` : "libc6 (>= 2.17)";
  return `${runtime}, passwd`;
}

/** `DEBIAN/control` from packaging/deb/control for this version, architecture and installed size. */
export function controlText(
  version: string,
  target: Target,
  debArch: string,
  sizeKb: string,
): string {
  return readFileSync(join(PACKAGING_DIR, "deb/control"), "utf8")
    .replace("@VERSION@", version)
    .replace("@ARCH@", debArch)
    .replace("@SIZE@", sizeKb)
    .replace("@DEPENDS@", `Depends: ${debDepends(target)}\n`);
}

/**
 * packaging/deb/changelog, gzip -9 as Debian wants it; throws when its top entry is not `version`,
 * so a release never ships a changelog that stops one version short.
 */
export function changelogGz(version: string): Buffer {
  const text = readFileSync(join(PACKAGING_DIR, "deb/changelog"), "utf8");
  const top = /^iotad \(([^)]+)\)/.exec(text)?.[1];
  if (top !== version)
    throw new Error(
      `packaging/deb/changelog starts with version ${top ?? "(none)"}, not ${version}: add an entry for ${version}`,
    );
  return gzipSync(text, { level: 9 });
}

/** Writes `DEBIAN/md5sums` for every regular file under `root` outside DEBIAN/ and `conffiles`. */
export function writeMd5sums(root: string, conffiles: string[]): void {
  const lines: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      const rel = relative(root, path);
      if (rel === "DEBIAN") continue;
      const stat = lstatSync(path);
      if (stat.isDirectory()) walk(path);
      else if (stat.isFile() && !conffiles.includes(`/${rel}`))
        lines.push(`${createHash("md5").update(readFileSync(path)).digest("hex")}  ${rel}`);
    }
  };
  walk(root);
  writeFileSync(join(root, "DEBIAN/md5sums"), `${lines.join("\n")}\n`);
}
