/**
 * Every .deb and tarball of the release as Debian and image builders see them: xz-compressed (file
 * magic, not names), lintian clean but for the two errors the Bun runtime itself causes, md5sums that
 * match, and the SysV script shipped as the only conffile (the device config is not one).
 */

import { beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, openSync, readFileSync, readSync, closeSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TARGETS } from "../../targets/index.ts";
import { currentRelease, type Release } from "../helpers/release.ts";
import { requireTools } from "./support/host-tools.ts";

const repo = join(import.meta.dir, "../..");
const XZ_MAGIC = Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]);
let release: Release;
const debTargets = TARGETS.filter((t) => t.packaging?.debArch !== undefined);
const tarTargets = TARGETS.filter((t) => t.packaging?.tarball);

beforeAll(() => {
  requireTools("lintian", "dpkg-deb");
  release = currentRelease(repo);
  for (const target of debTargets) {
    const tags = lintianTags(release.path(target.name, "deb"));
    tags.catch(() => {});
    lintian.set(target.name, tags);
  }
}, 900_000);

/** The first `n` bytes of a file. */
function head(path: string, n: number, offset = 0): Buffer {
  const fd = openSync(path, "r");
  try {
    const buf = Buffer.alloc(n);
    readSync(fd, buf, 0, n, offset);
    return buf;
  } finally {
    closeSync(fd);
  }
}

/** The members of a .deb (an ar archive): name, and the first bytes of each. */
function arMembers(path: string): { name: string; magic: Buffer }[] {
  const data = readFileSync(path);
  expect(data.subarray(0, 8).toString()).toBe("!<arch>\n");
  const members: { name: string; magic: Buffer }[] = [];
  for (let at = 8; at + 60 <= data.length; ) {
    const name = data
      .subarray(at, at + 16)
      .toString()
      .trim()
      .replace(/\/$/, "");
    const size = Number(
      data
        .subarray(at + 48, at + 58)
        .toString()
        .trim(),
    );
    members.push({ name, magic: data.subarray(at + 60, at + 66) });
    at += 60 + size + (size % 2);
  }
  return members;
}

/** lintian's tags for one .deb, as `E: tag` / `W: tag` (informational ones left out). */
function lintianTags(deb: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const child = spawn("lintian", ["--tag-display-limit", "0", deb], {
      stdio: ["ignore", "pipe", "ignore"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.once("error", (error) => reject(new Error(`lintian: ${error.message}`)));
    child.once("close", () =>
      resolve([...out.matchAll(/^([EW]): iotad: (\S+)/gm)].map((m) => `${m[1]}: ${m[2]}`)),
    );
  });
}

/** lintian on every .deb, all at once (the two big ones take ~10 s each). */
const lintian = new Map<string, Promise<string[]>>();

describe("the release's packages", () => {
  test("every .deb is xz inside (control and data), every tarball is .tar.xz", () => {
    for (const target of debTargets) {
      const members = arMembers(release.path(target.name, "deb"));
      expect(members.map((m) => m.name)).toEqual([
        "debian-binary",
        "control.tar.xz",
        "data.tar.xz",
      ]);
      for (const member of members.slice(1)) expect(member.magic).toEqual(XZ_MAGIC);
    }
    for (const target of tarTargets) {
      const tarball = release.path(target.name, "tarball");
      expect(tarball).toEndWith(".tar.xz");
      expect(head(tarball, 6)).toEqual(XZ_MAGIC);
    }
    expect(release.artifacts.filter((a) => a.file.endsWith(".gz"))).toEqual([]);
  });

  test.each(debTargets.map((t) => [t.name] as const))(
    "lintian on the %s .deb: only the Bun runtime's own tags",
    async (name) => {
      const tags = [...new Set(await lintian.get(name))].sort();
      const bun = TARGETS.find((t) => t.name === name)?.runtime.kind === "bun";
      // The Bun executable carries its own libraries (libjpeg, ...), must not be stripped (its
      // JavaScript sits after the ELF sections) and is linked by Bun without PIE and RELRO.
      const runtimeTags = [
        "E: embedded-library",
        "E: unstripped-binary-or-object",
        "W: hardening-no-pie",
        "W: hardening-no-relro",
      ];
      expect(tags).toEqual(bun ? runtimeTags : []);
    },
    60_000,
  );

  test("the amd64 .deb: md5sums that match, only the SysV script as conffile, no shipped config", () => {
    const deb = release.path("linux-x64", "deb");
    const work = mkdtempSync(join(tmpdir(), "iota-deb-"));
    try {
      expect(spawnSync("dpkg-deb", ["-R", deb, work]).status).toBe(0);
      expect(readFileSync(join(work, "DEBIAN/conffiles"), "utf8")).toBe("/etc/init.d/iotad\n");
      const check = spawnSync("md5sum", ["--check", "--strict", "DEBIAN/md5sums"], {
        cwd: work,
        encoding: "utf8",
      });
      expect(`${check.status} ${check.stderr}`).toBe("0 ");
      expect(check.stdout).toContain("usr/bin/iotad: OK");
      const files = spawnSync("dpkg-deb", ["-c", deb], { encoding: "utf8" }).stdout;
      expect(files).toContain("./etc/init.d/iotad");
      expect(files).not.toContain("./etc/iotad/");
      expect(files).toContain("./usr/share/iotad/config.example.json");
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  });
});
