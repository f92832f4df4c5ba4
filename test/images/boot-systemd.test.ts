/**
 * The amd64 .deb in a minimal Debian image (`mmdebstrap --variant=minbase`, plus systemd and dbus)
 * booted under systemd-nspawn, as a factory builds it: the device's config is placed first, the
 * package installs without a prompt, and at boot the agent provisions against a real iota-server on
 * the host, runs as the iotad user, renews on `systemctl reload`, announces offline on
 * `systemctl stop`, and `dpkg --purge` leaves nothing behind. Needs root (see test/setup/apt-packages.txt).
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";
import {
  agentStatus,
  expectLeastPrivilege,
  expectProvisioned,
  expectPurged,
  expectRenewedBy,
  waitFor,
} from "./support/agent-checks.ts";
import { Container, inImage, placeConfig } from "./support/container.ts";
import type { FleetServer } from "./support/fleet-server.ts";
import { requireImageTools } from "./support/host-tools.ts";
import { SYSTEMD_AMD64 } from "./support/image-cache.ts";
import { DEB, disposeDebBoot, prepareDebBoot } from "./support/deb-boot.ts";

// Hint: the hook's output joins the agent's journal (its /var/tmp is private, the rest read-only).
const HOOK = "systemctl reload dbus && echo hook reloaded dbus";
/** The README's way to act as root on each renewal without privileges for the agent: a .path unit. */
const PATH_UNIT: [string, string][] = [
  [
    "cert-renewed.path",
    "[Path]\nPathChanged=/var/lib/iotad/cert.pem\n[Install]\nWantedBy=multi-user.target\n",
  ],
  [
    "cert-renewed.service",
    "[Service]\nType=oneshot\nExecStart=/bin/touch /var/tmp/path-unit-ran\n",
  ],
];
let server: FleetServer;
let root: string;
let container: Container | undefined;
let port: number;
let serial: string;

beforeAll(async () => {
  requireImageTools();
  ({ root, server, port } = await prepareDebBoot(SYSTEMD_AMD64, "linux-x64", "images-systemd"));
}, 900_000);

afterAll(async () => await disposeDebBoot(container, server, root));

/** The agent's journal. */
const journal = () => container?.run(["journalctl", "-u", "iotad", "--no-pager"]) ?? "";

/** `systemctl show -p NAME iotad`'s value. */
const unitProperty = (name: string) =>
  container?.run(["systemctl", "show", "-p", name, "--value", "iotad"]).trim();

describe("the amd64 .deb in a minimal Debian image under systemd", () => {
  test("installs without a prompt over a config the factory placed first, and is enabled", async () => {
    // A hook that needs root: it fails as the iotad user, and runs once a drop-in allows it.
    const config = await server.deviceConfig("factory-1", port, { afterRenew: HOOK });
    placeConfig(root, config);
    const install = inImage(root, ["dpkg", "-i", DEB]);
    expect(`${install.status}\n${install.stderr}`).toStartWith("0\n");
    const status = inImage(root, ["dpkg-query", "--status", "iotad"]);
    expect(status.stdout).toContain("Status: install ok installed\n");
    // The factory's config is the one in use, readable by the agent's group only.
    expect(readFileSync(join(root, "etc/iotad/config.json"), "utf8")).toBe(config);
    expect(statSync(join(root, "etc/iotad/config.json")).mode & 0o777).toBe(0o640);
    const wants = join(root, "etc/systemd/system/multi-user.target.wants/iotad.service");
    expect(lstatSync(wants).isSymbolicLink()).toBe(true);
    for (const [name, text] of PATH_UNIT)
      writeFileSync(join(root, "etc/systemd/system", name), text);
    expect(inImage(root, ["systemctl", "enable", "cert-renewed.path"]).status).toBe(0);
  }, 120_000);

  test("boots into a provisioned agent: active, /healthz 200, user iotad, packaged environment", async () => {
    container = await Container.boot(root, "systemd");
    expect(container.exec(["systemctl", "is-active", "iotad"]).stdout.trim()).toBe("active");
    serial = await expectProvisioned(server, "factory-1", port);
    expectLeastPrivilege(container);
    expect(unitProperty("User")).toBe("iotad");
  }, 300_000);

  test("the unit passes systemd-analyze verify and exposes 2.1 or less in systemd-analyze security", () => {
    const verify = container?.exec(["systemd-analyze", "verify", "iotad.service"]);
    expect(`${verify?.status} ${verify?.stdout}${verify?.stderr}`).toBe("0 ");
    const security = container?.run(["systemd-analyze", "security", "--no-pager", "iotad.service"]);
    const exposure = Number(
      /Overall exposure level for iotad\.service: ([\d.]+)/.exec(security ?? "")?.[1],
    );
    process.stderr.write(`systemd-analyze security iotad.service: ${exposure}\n`);
    expect(exposure).toBeLessThanOrEqual(2.1);
  });

  test("systemctl reload renews the certificate, although minbase has no /bin/kill", async () => {
    expect(existsSync(join(root, "usr/bin/kill")) || existsSync(join(root, "bin/kill"))).toBe(
      false,
    );
    serial = await expectRenewedBy(
      () => container?.run(["systemctl", "reload", "iotad"]),
      server,
      "factory-1",
      port,
      serial,
    );
    const announced = await waitFor("the renewed certificate's announcement", () => {
      const status = server.retainedStatus("factory-1");
      return status.serial === serial ? status : undefined;
    });
    expect(announced.state).toBe("ready");
    // The agent has no right to reload another service; the .path unit, run by systemd, does.
    await waitFor("the .path unit to act on the new certificate", () =>
      existsSync(join(root, "var/tmp/path-unit-ran")) ? true : undefined,
    );
    expect(journal()).toContain("afterRenew exited with status");
    expect(journal()).not.toContain("hook reloaded dbus");
  }, 120_000);

  test("with the README's drop-in (User=root), the privileged afterRenew hook runs", async () => {
    const dropIn = join(root, "etc/systemd/system/iotad.service.d");
    mkdirSync(dropIn, { recursive: true });
    writeFileSync(join(dropIn, "override.conf"), "[Service]\nUser=root\nGroup=root\n");
    container?.run(["systemctl", "daemon-reload"]);
    container?.run(["systemctl", "restart", "iotad"]);
    // Hint: a SIGHUP before the agent has set up its handlers would end it (Type=simple).
    await waitFor("the agent to be ready again", async () =>
      (await agentStatus(port))?.state === "ready" ? true : undefined,
    );
    serial = await expectRenewedBy(
      () => container?.run(["systemctl", "reload", "iotad"]),
      server,
      "factory-1",
      port,
      serial,
    );
    await waitFor("the hook to run", () =>
      journal().includes("hook reloaded dbus") ? true : undefined,
    );
    expect(journal()).toContain("afterRenew finished");
    // Back to the packaged unit, as an admin undoes a drop-in.
    rmSync(dropIn, { recursive: true });
    container?.run(["systemctl", "daemon-reload"]);
    container?.run(["systemctl", "restart", "iotad"]);
    await waitFor("the agent to answer again", async () => (await agentStatus(port)) ?? undefined);
    expectLeastPrivilege(container as Container);
  }, 120_000);

  test("systemctl stop announces offline and the agent exits 0", () => {
    container?.run(["systemctl", "stop", "iotad"]);
    expect([unitProperty("Result"), unitProperty("ExecMainStatus")]).toEqual(["success", "0"]);
    expect(server.retainedStatus("factory-1")).toEqual({ state: "offline" });
  }, 60_000);

  test("dpkg --purge leaves nothing behind: no file, no user, no unit", () => {
    container?.run(["dpkg", "--purge", "iotad"]);
    expectPurged(container as Container, [DEB]);
    const units = container?.exec(["systemctl", "list-unit-files", "--no-legend", "iotad*"]);
    expect(units?.stdout.trim()).toBe("");
  }, 60_000);

  test("installed on the running system over a placed config, it starts at once", async () => {
    placeConfig(root, await server.deviceConfig("live-1", port));
    const install = container?.exec(["dpkg", "-i", DEB]);
    expect(`${install?.status}\n${install?.stderr}`).toStartWith("0\n");
    expect(container?.exec(["systemctl", "is-enabled", "iotad"]).stdout.trim()).toBe("enabled");
    expect(container?.exec(["systemctl", "is-active", "iotad"]).stdout.trim()).toBe("active");
    await expectProvisioned(server, "live-1", port);
  }, 120_000);
});
