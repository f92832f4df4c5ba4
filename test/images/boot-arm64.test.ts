/**
 * The arm64 .deb in a minimal arm64 Debian image (mmdebstrap --arch=arm64, systemd and dbus), booted
 * under systemd-nspawn with every arm64 program, systemd included, run by qemu-aarch64-static through
 * binfmt_misc: the packaged arm64 iotad provisions against the real server on the host, answers
 * /healthz, runs as the iotad user, renews on reload, announces offline on stop, and purges clean.
 * Needs root, qemu-user-static and binfmt-support (see test/setup/apt-packages.txt).
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  expectLeastPrivilege,
  expectProvisioned,
  expectPurged,
  expectRenewedBy,
} from "./support/agent-checks.ts";
import { Container, inImage, placeConfig } from "./support/container.ts";
import type { FleetServer } from "./support/fleet-server.ts";
import { requireArm64Binfmt, requireImageTools } from "./support/host-tools.ts";
import { SYSTEMD_ARM64 } from "./support/image-cache.ts";
import { DEB, disposeDebBoot, prepareDebBoot } from "./support/deb-boot.ts";

const DEVICE = "arm64-1";
let server: FleetServer;
let root: string;
let container: Container | undefined;
let port: number;
let serial: string;

beforeAll(async () => {
  requireImageTools();
  requireArm64Binfmt();
  ({ root, server, port } = await prepareDebBoot(SYSTEMD_ARM64, "linux-arm64", "images-arm64"));
}, 900_000);

afterAll(async () => await disposeDebBoot(container, server, root));

describe("the arm64 .deb in an arm64 Debian image under systemd (qemu-user)", () => {
  test("installs over a placed config and boots into a provisioned agent as user iotad", async () => {
    placeConfig(root, await server.deviceConfig(DEVICE, port));
    const install = inImage(root, ["dpkg", "-i", DEB]);
    expect(`${install.status}\n${install.stderr}`).toStartWith("0\n");
    expect(inImage(root, ["uname", "-m"]).stdout.trim()).toBe("aarch64");
    container = await Container.boot(root, "systemd", 300_000);
    expect(container.exec(["systemctl", "is-active", "iotad"]).stdout.trim()).toBe("active");
    serial = await expectProvisioned(server, DEVICE, port);
    expectLeastPrivilege(container);
  }, 600_000);

  test("systemctl reload renews; systemctl stop announces offline", async () => {
    serial = await expectRenewedBy(
      () => container?.run(["systemctl", "reload", "iotad"]),
      server,
      DEVICE,
      port,
      serial,
    );
    container?.run(["systemctl", "stop", "iotad"], 120_000);
    expect(server.retainedStatus(DEVICE)).toEqual({ state: "offline" });
  }, 300_000);

  test("dpkg --purge leaves nothing behind", () => {
    container?.run(["dpkg", "--purge", "iotad"], 180_000);
    expectPurged(container as Container, [DEB]);
  }, 300_000);
});
