/**
 * The amd64 .deb in minimal Debian images without systemd, booted under systemd-nspawn with sysvinit
 * as PID 1: once with SysV rc (`sysvinit-core`), once with OpenRC (`sysvinit-core openrc`, which runs
 * the package's LSB script). Same promises as under systemd: a placed config installs without a
 * prompt, the agent starts at boot as the iotad user, renews on reload, announces offline on stop,
 * and a purge leaves nothing behind. Needs root (see test/setup/apt-packages.txt).
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { currentRelease, type Release } from "../helpers/release.ts";
import {
  expectLeastPrivilege,
  expectProvisioned,
  expectPurged,
  expectRenewedBy,
} from "./support/agent-checks.ts";
import { Container, inImage, placeConfig } from "./support/container.ts";
import { type FleetServer, startFleetServer } from "./support/fleet-server.ts";
import { freePort, requireImageTools } from "./support/host-tools.ts";
import {
  ALL_IMAGES,
  type ImageSpec,
  OPENRC_AMD64,
  SYSVINIT_AMD64,
  prefetchImages,
  unpackImage,
} from "./support/image-cache.ts";

const repo = join(import.meta.dir, "../..");
const DEB = "/var/tmp/iotad.deb";
let server: FleetServer;
let release: Release;

beforeAll(async () => {
  requireImageTools();
  prefetchImages(ALL_IMAGES);
  release = currentRelease(repo);
  server = await startFleetServer("images-sysv");
}, 900_000);

afterAll(async () => {
  await server?.stop();
});

const IMAGES: [string, ImageSpec][] = [
  ["SysV rc", SYSVINIT_AMD64],
  ["OpenRC", OPENRC_AMD64],
];

describe.each(IMAGES)(
  "the amd64 .deb in a minimal Debian image under sysvinit with %s",
  (rc, image) => {
    const device = `${image.name}-1`;
    let root: string;
    let container: Container | undefined;
    let port: number;
    let serial: string;

    beforeAll(async () => {
      root = await unpackImage(image);
      copyFileSync(release.path("linux-x64", "deb"), join(root, DEB));
      port = await freePort();
    }, 600_000);

    afterAll(async () => {
      await container?.shutdown();
      if (root) rmSync(root, { recursive: true, force: true });
    });

    test("installs without a prompt over a placed config, with boot links for the default runlevel", async () => {
      expect(existsSync(join(root, "lib/systemd/systemd"))).toBe(false);
      placeConfig(root, await server.deviceConfig(device, port));
      const install = inImage(root, ["dpkg", "-i", DEB]);
      expect(`${install.status}\n${install.stderr}`).toStartWith("0\n");
      const links =
        rc === "OpenRC"
          ? readdirSync(join(root, "etc/runlevels/default"))
          : readdirSync(join(root, "etc/rc2.d")).map((name) => name.replace(/^S\d\d/, ""));
      expect(links).toContain("iotad");
    }, 120_000);

    test("boots into a provisioned agent: /healthz 200, user iotad, packaged environment", async () => {
      container = await Container.boot(root, "sysvinit");
      serial = await expectProvisioned(server, device, port);
      expect(container.run(["/etc/init.d/iotad", "status"])).toContain("iotad is running");
      expectLeastPrivilege(container);
    }, 300_000);

    test("invoke-rc.d iotad reload renews the certificate", async () => {
      serial = await expectRenewedBy(
        () => container?.run(["invoke-rc.d", "iotad", "reload"]),
        server,
        device,
        port,
        serial,
      );
    }, 120_000);

    test("invoke-rc.d iotad stop announces offline", () => {
      container?.run(["invoke-rc.d", "iotad", "stop"]);
      expect(server.retainedStatus(device)).toEqual({ state: "offline" });
      expect(container?.exec(["/etc/init.d/iotad", "status"]).status).toBe(3);
    }, 60_000);

    test("dpkg --purge leaves nothing behind: no file, no user, no boot link", () => {
      container?.run(["dpkg", "--purge", "iotad"]);
      expectPurged(container as Container, [DEB]);
    }, 60_000);
  },
);
