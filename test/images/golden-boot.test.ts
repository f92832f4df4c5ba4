/**
 * One golden image, booted as several boards: a minimal Debian image (mmdebstrap, systemd) with the
 * amd64 .deb and the one config `iotactl gen config --golden` writes, copied per board with its own
 * `/etc/machine-id` and booted under systemd-nspawn against a real iota-server (HTTPS) on the host.
 * Each registered board becomes its own provisioned device, an unregistered machine-id is refused with
 * a clear state in /status, and a board booted again comes back as the same device without provisioning
 * again. Needs root (see test/setup/apt-packages.txt).
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUN, ROOT, startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { run } from "../iotactl-support.ts";
import { currentRelease } from "../helpers/release.ts";
import { agentStatus, waitFor } from "./support/agent-checks.ts";
import { Container, inImage, placeConfig } from "./support/container.ts";
import { freePort, requireImageTools } from "./support/host-tools.ts";
import { type ImageSpec, unpackImage } from "./support/image-cache.ts";

const IMAGE: ImageSpec = {
  name: "systemd",
  arch: "amd64",
  include: ["systemd", "systemd-sysv", "dbus"],
};
const DEB = "/var/tmp/iotad.deb";
const GROUP = "line-9";
const work = join(tmpdir(), `iota-golden-boot-${process.pid}`);
const ids = [0, 1, 2].map(() => randomBytes(16).toString("hex"));
const name = (i: number) => `dev-${ids[i]}`;
let server: ServerProcess;
let golden = "";
let port = 0;
let container: Container | undefined;

/** The real iotactl (from source), pinned to the server's CA. */
async function iotactl(args: string[]) {
  return await run([BUN, join(ROOT, "src/iotactl/main.ts"), ...args], {
    env: { IOTA_SERVER: server.url, IOTA_TOKEN: server.token(), IOTA_CA_FILE: "server-ca.pem" },
    cwd: work,
  });
}

/** A board: a copy of the golden image with its own machine-id (as flashing and a first boot give it). */
function board(i: number): string {
  const root = join(work, `board-${i}`);
  rmSync(root, { recursive: true, force: true });
  const copy = spawnSync("cp", ["-a", "--reflink=auto", golden, root], { encoding: "utf8" });
  if (copy.status !== 0) throw new Error(`cp -a ${golden} ${root}: ${copy.stderr}`);
  writeFileSync(join(root, "etc/machine-id"), `${ids[i]}\n`, { mode: 0o444 });
  return root;
}

async function device(n: string): Promise<Record<string, unknown> | undefined> {
  const r = await server.adminCall("GET", `/v1/groups/${GROUP}/devices/${n}`);
  return r.status === 200 ? (r.json as Record<string, unknown>) : undefined;
}

/** Boots `root` and waits until its agent's /status satisfies `ok`; returns that status. */
async function bootUntil(
  root: string,
  what: string,
  ok: (s: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  await shutdown();
  const booted = await Container.boot(root, "systemd");
  container = booted;
  try {
    return await waitFor(what, async () => {
      const s = await agentStatus(port);
      return s !== undefined && ok(s) ? s : undefined;
    });
  } catch (error) {
    const journal = booted.exec(["journalctl", "-u", "iotad", "--no-pager"]).stdout;
    await shutdown();
    throw new Error(`${(error as Error).message}\niotad's journal:\n${journal}`);
  }
}

async function shutdown(): Promise<void> {
  await container?.shutdown();
  container = undefined;
}

beforeAll(async () => {
  requireImageTools();
  mkdirSync(work, { recursive: true });
  // Hint: the image installs the .deb of dist/; currentRelease refuses one built from other sources.
  const release = currentRelease(ROOT);
  server = await startServerProcess({ tls: true, data: join(work, "server") });
  writeFileSync(join(work, "server-ca.pem"), server.serverCaPem);
  port = await freePort();

  // The factory: a registered group, the machine-ids of boards 0 and 1 registered, the golden config.
  const secret = await iotactl(["add", "group", GROUP, "--validity", "1h"]);
  writeFileSync(join(work, "prov_secret.txt"), secret.stdout);
  writeFileSync(join(work, "machine-ids.txt"), `${ids[0]}\n${ids[1]}\n`);
  const added = await iotactl(
    ["add", "device", "-g", GROUP, "--from-file", "machine-ids.txt", "--normalize"].concat([
      "--prefix",
      "dev-",
    ]),
  );
  expect(added.stdout).toBe("created: 2\nalready existed: 0\ninvalid: 0\n");
  const gen = await iotactl(
    ["gen", "config", "-g", GROUP, "--golden", "--device-from", "file:/etc/machine-id"].concat([
      "--prefix",
      "dev-",
      "--secret-file",
      "prov_secret.txt",
      "--status-listen",
      `127.0.0.1:${port}`,
      "--out",
      "golden.json",
    ]),
  );
  expect(gen.code).toBe(0);

  // The golden image: the config the factory places first, then the package, as an image build does.
  golden = await unpackImage(IMAGE);
  copyFileSync(release.path("linux-x64", "deb"), join(golden, DEB));
  placeConfig(golden, readFileSync(join(work, "golden.json"), "utf8"));
  // Hint: --force-confold keeps the placed config whether or not the package ships one as a conffile.
  const install = inImage(golden, ["dpkg", "--force-confold", "-i", DEB]);
  expect(`${install.status}\n${install.stderr}`).toStartWith("0\n");
  // A golden image carries no device identity: no machine-id of its own, nothing in /var/lib/iotad.
  writeFileSync(join(golden, "etc/machine-id"), "uninitialized\n");
  rmSync(join(golden, "var/lib/iotad"), { recursive: true, force: true });
}, 900_000);

afterAll(async () => {
  await shutdown();
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
  if (golden !== "") rmSync(golden, { recursive: true, force: true });
});

describe("one golden image on several boards", () => {
  test("in the image, iotad check-config shows the name a board's machine-id gives", () => {
    const root = board(0);
    const check = inImage(root, ["iotad", "check-config"]);
    expect(`${check.status}\n${check.stdout}`).toStartWith("0\n");
    expect(check.stdout).toContain(`device name: ${name(0)}, from file:/etc/machine-id`);
    // The same image without a machine-id yet names nothing: a clear error naming the source.
    const blank = inImage(golden, ["iotad", "check-config"]);
    expect(blank.status).toBe(2);
    // Hint: with --console=pipe the command's stderr, where the error goes, stays apart from its stdout.
    expect(blank.stderr).toContain(
      'field "device.from": file:/etc/machine-id gives no device name',
    );
  }, 120_000);

  test("each registered board boots into its own provisioned device", async () => {
    for (const i of [0, 1]) {
      const s = await bootUntil(board(i), `board ${i} ready`, (x) => x.state === "ready");
      expect(s.device).toBe(name(i));
      expect(s.deviceSource).toMatchObject({ from: "file:/etc/machine-id", resolved: name(i) });
      expect(await device(name(i))).toMatchObject({ state: "provisioned", serial: s.serial });
      expect(container?.run(["iotad", "check-config"])).toContain(`device name: ${name(i)}`);
      await shutdown();
    }
  }, 600_000);

  test("a board whose machine-id was not registered is refused, with a clear state in /status", async () => {
    const s = await bootUntil(board(2), "board 2's refusal", (x) => x.state === "error");
    expect(s.device).toBe(name(2));
    expect(s.certificateValid).toBe(false);
    expect(String(s.lastError)).toContain("404");
    expect(String(s.lastError)).toContain("this device's name is not registered in its group");
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(503);
    expect(await device(name(2))).toBeUndefined();
    await shutdown();
  }, 300_000);

  test("board 0 booted again comes back as the same device, without provisioning again", async () => {
    const before = await device(name(0));
    const s = await bootUntil(
      join(work, "board-0"),
      "board 0 ready again",
      (x) => x.state === "ready",
    );
    expect([s.device, s.serial]).toEqual([name(0), before?.serial]);
    expect(await device(name(0))).toEqual(before);
    const journal = container?.run(["journalctl", "-b", "-u", "iotad", "--no-pager"]) ?? "";
    expect(journal).toContain(`device name ${name(0)} pinned in the data folder when provisioned`);
    expect(journal).not.toContain(`provisioning ${GROUP}/`);
    await shutdown();
  }, 300_000);
});
