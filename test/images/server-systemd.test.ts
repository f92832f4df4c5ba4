/**
 * iota-server as a systemd service, installed in a minimal Debian image (`mmdebstrap --variant=minbase`,
 * plus systemd and dbus) booted under systemd-nspawn with the commands of docs/server.md ("As a systemd
 * service"), run as written from the release's executable and unit: it runs as the user iota without
 * capabilities, answers over HTTPS with its own server CA, reloads on `systemctl reload`, comes back after a
 * crash taking over the lock it left, refuses a second server by hand, rotates its admin token as the docs
 * say, and stops cleanly. It runs with the allocator settings of src/iota-server/runtime-env.ts, which
 * /etc/iota-server/env can override. Needs root (see test/setup/apt-packages.txt).
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { SERVER_RUNTIME_ENV } from "../../src/iota-server/runtime-env.ts";
import { currentRelease } from "../helpers/release.ts";
import { waitFor } from "./support/agent-checks.ts";
import { Container } from "./support/container.ts";
import { freePort, requireImageTools } from "./support/host-tools.ts";
import { ALL_IMAGES, prefetchImages, SYSTEMD_AMD64, unpackImage } from "./support/image-cache.ts";

const REPO = resolve(import.meta.dir, "../..");
/** Where the release's files wait inside the image, as an operator's download folder. */
const RELEASE = "/var/tmp/release";

/** The commands of docs/server.md's "As a systemd service", as written. */
function documentedInstall(): string {
  const docs = readFileSync(join(REPO, "docs/server.md"), "utf8");
  const section = docs.slice(docs.indexOf("**As a systemd service.**"));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (block === undefined) throw new Error("docs/server.md has no install commands for systemd");
  return block;
}

let root: string;
let container: Container | undefined;
let port: number;

beforeAll(async () => {
  requireImageTools();
  prefetchImages(ALL_IMAGES);
  const release = currentRelease(REPO);
  root = await unpackImage(SYSTEMD_AMD64);
  mkdirSync(join(root, RELEASE), { recursive: true });
  for (const file of ["iota-server-linux-x64", "iota-server.service"]) {
    expect(release.artifacts.some((a) => a.file === file)).toBe(true);
    copyFileSync(join(release.dist, file), join(root, RELEASE, file));
  }
  port = await freePort();
  container = await Container.boot(root, "systemd");
}, 900_000);

afterAll(async () => {
  await container?.shutdown();
  if (root) rmSync(root, { recursive: true, force: true });
});

const box = () => container as Container;
const data = (...path: string[]) => join(root, "var/lib/iota", ...path);
const mainPid = () =>
  box().run(["systemctl", "show", "-p", "MainPID", "--value", "iota-server"]).trim();
const unitProperty = (name: string) =>
  box().run(["systemctl", "show", "-p", name, "--value", "iota-server"]).trim();
const journal = () => box().run(["journalctl", "-u", "iota-server", "--no-pager"]);
const token = () => readFileSync(data("admin-token"), "utf8").trim();

/** An admin call from the host, trusting the server CA the service wrote; its status. */
async function listGroups(): Promise<number> {
  const answer = await fetch(`https://127.0.0.1:${port}/v1/groups`, {
    headers: { authorization: `Bearer ${token()}` },
    tls: { ca: readFileSync(data("server-ca.pem"), "utf8") },
  });
  await answer.arrayBuffer();
  return answer.status;
}

/** Waits until the service answers, after a start or a restart. */
const answering = () =>
  waitFor("iota-server to answer", async () => {
    try {
      return (await listGroups()) === 200 ? true : undefined;
    } catch {
      return undefined;
    }
  });

describe("iota-server installed as a systemd service as docs/server.md says", () => {
  test("the documented commands install, enable and start it", async () => {
    const commands = documentedInstall();
    // The operator's own address and name; everything else as written.
    expect(commands).toContain("IOTA_LISTEN=0.0.0.0:8440");
    expect(commands).toContain("IOTA_HOSTNAME=iota.example.com");
    const mine = commands.replace("0.0.0.0:8440", `127.0.0.1:${port}`);
    const install = box().exec(["sh", "-ec", `cd ${RELEASE}\n${mine}`]);
    expect(install.status).toBe(0);
    // systemctl enable says what it linked; nothing else may complain.
    expect(install.stderr.replace(/^Created symlink .*\n/gm, "")).toBe("");
    expect(box().run(["systemctl", "is-enabled", "iota-server"]).trim()).toBe("enabled");
    await answering();
    // What the journal shows the operator: the address, the fingerprint to pin, where the token is.
    const started = journal();
    expect(started).toContain(`listening on https://127.0.0.1:${port}`);
    expect(started).toContain("SHA-256 fingerprint");
    expect(started).toContain("admin token: written to /var/lib/iota/admin-token (0600)");
  }, 180_000);

  test("runs as iota without capabilities; its data folder 0700, its secrets 0600, its settings root's", () => {
    expect(unitProperty("ActiveState")).toBe("active");
    const status = box().run(["cat", `/proc/${mainPid()}/status`]);
    const uid = box().run(["id", "-u", "iota"]).trim();
    expect(/^Uid:\s+(\d+)/m.exec(status)?.[1]).toBe(uid);
    expect(/^CapEff:\s+(\w+)/m.exec(status)?.[1]).toBe("0000000000000000");
    expect(/^NoNewPrivs:\s+(\d)/m.exec(status)?.[1]).toBe("1");
    const folder = statSync(data());
    expect([folder.uid, folder.mode & 0o777]).toEqual([Number(uid), 0o700]);
    for (const file of ["admin-token", "master.key", "iota.db"])
      expect(statSync(data(file)).mode & 0o777).toBe(0o600);
    const env = statSync(join(root, "etc/iota-server/env"));
    expect([env.uid, env.mode & 0o777]).toEqual([0, 0o600]);
    // The lock names the service's process.
    expect(JSON.parse(readFileSync(data("iota-server.lock"), "utf8")).pid).toBe(Number(mainPid()));
  });

  test("runs with the allocator setting of src/iota-server/runtime-env.ts, and the settings file can override it", async () => {
    const environ = () =>
      box()
        .run(["cat", `/proc/${mainPid()}/environ`])
        .split("\0")
        .filter(Boolean);
    const entries = Object.entries(SERVER_RUNTIME_ENV).map(([name, value]) => `${name}=${value}`);
    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) expect(environ()).toContain(entry);
    // An operator's own value in /etc/iota-server/env wins over the unit's.
    const settings = join(root, "etc/iota-server/env");
    const before = readFileSync(settings, "utf8");
    const [name] = Object.keys(SERVER_RUNTIME_ENV) as [string];
    try {
      writeFileSync(settings, `${before.replace(/\n?$/, "\n")}${name}=1\n`);
      box().run(["systemctl", "restart", "iota-server"]);
      await answering();
      expect(environ()).toContain(`${name}=1`);
      expect(environ()).not.toContain(`${name}=${SERVER_RUNTIME_ENV[name]}`);
    } finally {
      writeFileSync(settings, before);
      box().run(["systemctl", "restart", "iota-server"]);
      await answering();
    }
    for (const entry of entries) expect(environ()).toContain(entry);
  }, 240_000);

  test("the unit passes systemd-analyze verify and exposes 1.3 or less in systemd-analyze security (as docs/server.md says)", () => {
    const verify = box().exec(["systemd-analyze", "verify", "iota-server.service"]);
    expect(`${verify.status} ${verify.stdout}${verify.stderr}`).toBe("0 ");
    const security = box().run([
      "systemd-analyze",
      "security",
      "--no-pager",
      "iota-server.service",
    ]);
    const exposure = Number(
      /Overall exposure level for iota-server\.service: ([\d.]+)/.exec(security)?.[1],
    );
    process.stderr.write(`systemd-analyze security iota-server.service: ${exposure}\n`);
    expect(exposure).toBeLessThanOrEqual(1.3);
  });

  test("systemctl reload keeps it running, although minbase has no /bin/kill", async () => {
    expect(existsSync(join(root, "usr/bin/kill")) || existsSync(join(root, "bin/kill"))).toBe(
      false,
    );
    const pid = mainPid();
    box().run(["systemctl", "reload", "iota-server"]);
    expect(unitProperty("ActiveState")).toBe("active");
    expect(mainPid()).toBe(pid);
    expect(await listGroups()).toBe(200);
  }, 60_000);

  test("a second server by hand on its data folder is refused, naming the service's process", () => {
    const pid = mainPid();
    const second = box().exec([
      "runuser",
      "-u",
      "iota",
      "--",
      "iota-server",
      "--data",
      "/var/lib/iota",
      "--listen",
      "127.0.0.1:0",
    ]);
    expect(second.status).toBe(3);
    expect(second.stderr).toContain(
      `data folder /var/lib/iota is in use by another iota-server, pid ${pid} (iota-server --data /var/lib/iota `,
    );
    expect(mainPid()).toBe(pid);
  });

  test("the admin token is rotated as the docs say, beside the running service", async () => {
    const old = token();
    const rotate = box().exec([
      "runuser",
      "-u",
      "iota",
      "--",
      "iota-server",
      "rotate-admin-token",
      "--data",
      "/var/lib/iota",
    ]);
    expect(`${rotate.status}\n${rotate.stderr}`).toBe("0\n");
    expect(token()).not.toBe(old);
    expect(statSync(data("admin-token")).mode & 0o777).toBe(0o600);
    expect(await listGroups()).toBe(200);
  }, 60_000);

  test("killed, it is started again and takes over the lock it left", async () => {
    const pid = mainPid();
    box().run(["systemctl", "kill", "--signal=KILL", "iota-server"]);
    await waitFor("systemd to start it again", () => {
      const now = mainPid();
      return now !== "0" && now !== pid && unitProperty("ActiveState") === "active"
        ? true
        : undefined;
    });
    await answering();
    expect(journal()).toContain(
      `took over the lock of pid ${pid} (iota-server --data /var/lib/iota`,
    );
    expect(JSON.parse(readFileSync(data("iota-server.lock"), "utf8")).pid).toBe(Number(mainPid()));
  }, 120_000);

  test("systemctl stop ends it with status 0 and removes its lock", () => {
    box().run(["systemctl", "stop", "iota-server"]);
    expect([unitProperty("Result"), unitProperty("ExecMainStatus")]).toEqual(["success", "0"]);
    expect(existsSync(data("iota-server.lock"))).toBe(false);
    expect(existsSync(data("iota.db"))).toBe(true);
  }, 60_000);
});
