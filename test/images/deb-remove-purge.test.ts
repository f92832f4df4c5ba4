/**
 * The amd64 .deb removed and purged by the real dpkg and maintainer scripts in a minimal Debian image with
 * sysvinit (run under systemd-nspawn, not booted): after a remove the SysV script, a conffile that stays with
 * its boot links, does nothing and exits 0 (Debian Policy 9.3.2); a purge that keeps a file an operator put
 * beside the config (a tokenFile, root:iotad 0640) hands it to root before the iotad group goes, so the next
 * account given that group's id cannot read the device's credential. Needs root (see test/setup/apt-packages.txt).
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  chownSync,
  copyFileSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import { inImage } from "./support/container.ts";
import { DEB } from "./support/deb-boot.ts";
import { requireImageTools } from "./support/host-tools.ts";
import { ALL_IMAGES, SYSVINIT_AMD64, prefetchImages, unpackImage } from "./support/image-cache.ts";
import { currentRelease } from "../helpers/release.ts";

const repo = join(import.meta.dir, "../..");
let root: string;

beforeAll(async () => {
  requireImageTools();
  prefetchImages(ALL_IMAGES);
  const release = currentRelease(repo);
  root = await unpackImage(SYSVINIT_AMD64);
  copyFileSync(release.path("linux-x64", "deb"), join(root, DEB));
}, 900_000);

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** The numeric id of `name` in the image's `/etc/passwd` or `/etc/group`, if it is there. */
function imageId(db: "passwd" | "group", name: string): number | undefined {
  const line = readFileSync(join(root, "etc", db), "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${name}:`));
  return line === undefined ? undefined : Number(line.split(":")[2]);
}

describe("the amd64 .deb removed, then purged, under sysvinit", () => {
  test("after a remove, the SysV script left behind exits 0 quietly at boot and on stop", () => {
    expect(inImage(root, ["dpkg", "-i", DEB]).status).toBe(0);
    const removed = inImage(root, ["dpkg", "--remove", "iotad"]);
    expect(`${removed.status}\n${removed.stderr}`).toStartWith("0\n");
    expect(existsSync(join(root, "usr/bin/iotad"))).toBe(false);
    // The conffile and its boot link stay until a purge: init runs it at every boot.
    expect(existsSync(join(root, "etc/init.d/iotad"))).toBe(true);
    expect(readdirSync(join(root, "etc/rc2.d")).some((n) => /^S\d\diotad$/.test(n))).toBe(true);
    for (const action of ["start", "stop", "restart"]) {
      const r = inImage(root, ["/etc/init.d/iotad", action]);
      expect(`${action}: ${r.status} ${r.stdout}`).toBe(`${action}: 0 `);
      // Hint: stderr also carries systemd-nspawn's own notes about its mount propagation folder.
      expect(r.stderr).not.toContain("iotad:");
      expect(r.stderr).not.toContain("not found");
    }
  }, 120_000);

  test("a purge keeps the operator's tokenFile, owned by root and closed to others; the next account cannot read it", () => {
    expect(inImage(root, ["dpkg", "-i", DEB]).status).toBe(0);
    const gid = imageId("group", "iotad");
    expect(gid).toBeNumber();
    // As docs/images.md says: files the config names go beside it, root:iotad 0640.
    const token = join(root, "etc/iotad/token");
    writeFileSync(token, "device-token-of-this-board\n", { mode: 0o640 });
    chownSync(token, 0, gid as number);

    const purge = inImage(root, ["dpkg", "--purge", "iotad"]);
    expect(purge.status).toBe(0);
    expect(purge.stderr).toContain(
      "iotad: kept /etc/iotad/token, now owned by root:root and not readable by others",
    );
    expect(purge.stderr).toContain("iotad: /etc/iotad still holds other files; kept");
    expect(existsSync(join(root, "etc/iotad/config.json"))).toBe(false);
    expect(existsSync(join(root, "var/lib/iotad"))).toBe(false);
    expect(imageId("passwd", "iotad")).toBeUndefined();
    expect(imageId("group", "iotad")).toBeUndefined();
    const kept = statSync(token);
    expect([kept.uid, kept.gid, kept.mode & 0o007]).toEqual([0, 0, 0]);
    const folder = statSync(join(root, "etc/iotad"));
    expect([folder.uid, folder.gid, folder.mode & 0o007]).toEqual([0, 0, 0]);

    // The next system account is given the freed group id, and still cannot read the token.
    expect(inImage(root, ["useradd", "--system", "--user-group", "newcomer"]).status).toBe(0);
    expect(imageId("group", "newcomer")).toBe(gid);
    const read = inImage(root, [
      ...["setpriv", "--reuid", "newcomer", "--regid", "newcomer", "--init-groups"],
      ...["cat", "/etc/iotad/token"],
    ]);
    expect(read.status).not.toBe(0);
    expect(read.stdout).toBe("");
  }, 120_000);
});
