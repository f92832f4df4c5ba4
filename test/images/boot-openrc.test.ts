/**
 * The linux-x64 tarball installed by its install.sh into a Debian image that boots OpenRC (the path
 * of Alpine and other images without dpkg): `install.sh --root ROOT --init openrc --config FILE
 * --enable` from the build host, then a boot under systemd-nspawn. The OpenRC script supervises the
 * agent (supervise-daemon) as the iotad user; reload renews, stop announces offline. Alpine itself is
 * not booted: its mirror is out of reach here, and the musl executable only differs in its libc.
 * Needs root (see test/setup/apt-packages.txt).
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { currentRelease } from "../helpers/release.ts";
import {
  agentPid,
  expectLeastPrivilege,
  expectProvisioned,
  expectRenewedBy,
} from "./support/agent-checks.ts";
import { Container, host } from "./support/container.ts";
import { type FleetServer, startFleetServer } from "./support/fleet-server.ts";
import { freePort, requireImageTools } from "./support/host-tools.ts";
import { ALL_IMAGES, OPENRC_AMD64, prefetchImages, unpackImage } from "./support/image-cache.ts";

const repo = join(import.meta.dir, "../..");
const DEVICE = "openrc-native-1";
let server: FleetServer;
let root: string;
let work: string;
let container: Container | undefined;
let port: number;
let serial: string;

beforeAll(async () => {
  requireImageTools();
  prefetchImages(ALL_IMAGES);
  const release = currentRelease(repo);
  root = await unpackImage(OPENRC_AMD64);
  work = mkdtempSync(join(tmpdir(), "iota-openrc-"));
  const untar = host("tar", ["-xJf", release.path("linux-x64", "tarball"), "-C", work]);
  if (untar.status !== 0) throw new Error(`tar: ${untar.stderr}`);
  server = await startFleetServer("images-openrc");
  port = await freePort();
}, 900_000);

afterAll(async () => {
  await container?.shutdown();
  await server?.stop();
  for (const dir of [root, work]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("the linux-x64 tarball in an OpenRC image, installed by install.sh", () => {
  test("install.sh --root --init openrc --enable creates the user and enables the service", async () => {
    const config = join(work, "device.json");
    writeFileSync(config, await server.deviceConfig(DEVICE, port), { mode: 0o600 });
    const [folder] = host("ls", [work])
      .stdout.split("\n")
      .filter((n) => n.startsWith("iotad-"));
    const install = host("sh", [
      join(work, folder ?? "", "install.sh"),
      ...["--root", root, "--init", "openrc", "--config", config, "--enable"],
    ]);
    expect(`${install.status} ${install.stderr}`).toBe("0 ");
    expect(readFileSync(join(root, "etc/passwd"), "utf8")).toMatch(/^iotad:/m);
    expect(readFileSync(join(root, "etc/init.d/iotad"), "utf8")).toStartWith("#!/sbin/openrc-run");
    expect(readlinkSync(join(root, "etc/runlevels/default/iotad"))).toBe("/etc/init.d/iotad");
  }, 120_000);

  test("boots into a provisioned agent supervised by supervise-daemon, as user iotad", async () => {
    container = await Container.boot(root, "sysvinit");
    serial = await expectProvisioned(server, DEVICE, port);
    expect(container.run(["rc-service", "iotad", "status"])).toContain("started");
    const parent = /^PPid:\s+(\d+)/m.exec(
      readFileSync(`/proc/${agentPid(container)}/status`, "utf8"),
    );
    expect(readFileSync(`/proc/${parent?.[1]}/cmdline`, "utf8")).toStartWith("supervise-daemon");
    expectLeastPrivilege(container);
  }, 300_000);

  test("rc-service iotad reload renews the certificate", async () => {
    serial = await expectRenewedBy(
      () => container?.run(["rc-service", "iotad", "reload"]),
      server,
      DEVICE,
      port,
      serial,
    );
  }, 120_000);

  test("rc-service iotad stop announces offline and leaves no agent running", () => {
    container?.run(["rc-service", "iotad", "stop"]);
    expect(server.retainedStatus(DEVICE)).toEqual({ state: "offline" });
    expect(() => agentPid(container as Container)).toThrow();
  }, 60_000);
});
