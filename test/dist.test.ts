/**
 * The release in dist/ works where it will run: each packaged iotad (from its tarball) provisions,
 * serves /healthz and renews against a real iota-server on loopback, on its own architecture
 * (linux-x64 natively, linux-arm64 under qemu-aarch64, linux-i386 on Debian's 32-bit Node.js,
 * linux-armhf on Debian's armhf Node.js under qemu-arm, linux-armel on Debian's armel Node.js under
 * qemu-arm as an ARMv6 CPU, which dies on ARMv5); the .deb and install.sh lay out a root filesystem;
 * every artifact matches SHA256SUMS. Uses dist/ from `npm run build`, which npm test runs first when
 * the sources changed since the last build; fails at once on a missing or stale dist/.
 * (test/images/ boots the packages in real images.)
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TARGETS, type Target } from "../targets/index.ts";
import { deviceToken } from "../src/core/token.ts";
import { startServerProcess, type ServerProcess } from "./helpers/server-process.ts";
import { currentRelease } from "./helpers/release.ts";
import {
  makeNodeBox,
  makeSandbox,
  nodeTakesSignals,
  qemuNodeArgv,
  type Sandbox,
} from "./helpers/foreign-run.ts";
import { certificateFingerprints } from "../src/core/fingerprint.ts";

const repo = join(import.meta.dir, "..");
const dist = join(repo, "dist");
const GROUP = "dist-check";
let server: ServerProcess;
let secret: string;
let manifest: {
  version: string;
  artifacts: { file: string; target: string; kind: string; program: string }[];
};
const tmp = mkdtempSync(join(tmpdir(), "iota-dist-test-"));

beforeAll(async () => {
  manifest = currentRelease(repo);
  server = await startServerProcess({ tls: true });
  const group = await server.admin("POST", "/v1/groups", { name: GROUP, validity: "1m" }, 201);
  secret = String(group.provisioningSecret);
}, 60_000);

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Runs a command to completion; stdout, stderr, exit status. */
function runTool(file: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const r = spawnSync(file, args, { encoding: "utf8", env, maxBuffer: 16 * 1024 * 1024 });
  if (r.error) throw new Error(`${file}: ${r.error.message}`);
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** The artifact of `kind` of `program` for `target`, checked to be in the manifest. */
function artifact(target: string, kind: string, program = "iotad"): string {
  const found = manifest.artifacts.find(
    (a) => a.target === target && a.kind === kind && a.program === program,
  );
  if (!found)
    throw new Error(`dist/ has no ${kind} of ${program} for ${target}: rebuild with npm run build`);
  return join(dist, found.file);
}

describe("artifacts", () => {
  test("every target's programs are built, and every artifact matches SHA256SUMS", () => {
    for (const target of TARGETS) {
      for (const program of target.programs) {
        expect(
          manifest.artifacts.some(
            (a) =>
              a.target === target.name &&
              a.program === program &&
              (a.kind === "executable" || a.kind === "node-bundle"),
          ),
        ).toBe(true);
      }
    }
    const sums = readFileSync(join(dist, "SHA256SUMS"), "utf8").trim().split("\n");
    expect(sums.map((line) => line.split(/\s+/)[1]).sort()).toEqual(
      manifest.artifacts.map((a) => a.file).sort(),
    );
    const check = spawnSync("sha256sum", ["--check", "--strict", "SHA256SUMS"], {
      cwd: dist,
      encoding: "utf8",
    });
    expect(
      check.stdout
        .trim()
        .split("\n")
        .filter((l) => !l.endsWith(": OK")),
    ).toEqual([]);
    expect(check.status).toBe(0);
  }, 300_000);
});

/** Unpacks the target's tarball into the sandbox, writes its config; returns the config path as iotad sees it. */
async function prepareDevice(target: Target, box: Sandbox, device: string): Promise<string> {
  mkdirSync(join(box.host, "release"));
  const untar = runTool("tar", [
    "-xJf",
    artifact(target.name, "tarball"),
    "-C",
    join(box.host, "release"),
    "--strip-components=1",
  ]);
  expect(untar.status).toBe(0);
  await server.admin("POST", `/v1/groups/${GROUP}/devices`, { name: device }, 201);
  const config = {
    server: server.url,
    serverCa: server.serverCaPem,
    group: GROUP,
    device,
    token: deviceToken(secret, GROUP, device),
    dataDir: `${box.guest}/data`,
    statusListen: "127.0.0.1:0",
    // A broker that is not there: MQTT.js still parses the URL, which is what prints DEP0169.
    mqtt: { url: "mqtt://127.0.0.1:9" },
  };
  writeFileSync(join(box.host, "config.json"), JSON.stringify(config, null, 2), { mode: 0o600 });
  return `${box.guest}/config.json`;
}

/** Starts `iotad run`, waits for its status endpoint, checks /healthz, then stops it with SIGTERM. */
async function runDaemon(
  box: Sandbox,
  config: string,
): Promise<{ healthz: number; exit: number | null; log: string }> {
  const cmd = box.command(["run", "--config", config]);
  const child = spawn(cmd.file, cmd.args, { env: cmd.env, stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  const url = await new Promise<string>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      log += chunk.toString();
      const match = /status endpoint on (http:\/\/\S+)/.exec(log);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.once("exit", (code) => reject(new Error(`iotad run exited (${code}) early:\n${log}`)));
  });
  let healthz = 0;
  // The agent loads its stored certificate right after listening; poll a bounded number of times.
  for (let i = 0; i < 100 && healthz !== 200; i++) {
    healthz = (await fetch(`${url}/healthz`)).status;
    if (healthz !== 200) await Bun.sleep(200);
  }
  const exited = new Promise<number | null>((done) => child.once("exit", (code) => done(code)));
  child.kill("SIGTERM");
  return { healthz, exit: await exited, log };
}

const runnable = TARGETS.filter(
  (t) => t.runner.kind !== "none" && t.packaging && t.programs.includes("iotad"),
);

describe.each(runnable.map((t) => [t.name, t] as const))(
  "iotad %s from its tarball",
  (name, target) => {
    test("provisions, serves /healthz 200, renews, and logs no deprecation warning or secret", async () => {
      const device = `dist-${name}`;
      const box = makeSandbox(repo, target, tmp);
      try {
        const config = await prepareDevice(target, box, device);
        const iotad = (...args: string[]) => {
          const c = box.command(args);
          return runTool(c.file, c.args, c.env);
        };
        const version = iotad("version");
        expect(version.stdout).toContain(`iotad ${manifest.version}`);

        const provision = iotad("provision", "--config", config);
        expect(`${provision.status} ${provision.stderr}`).toBe(`0 ${provision.stderr}`);
        const provisioned = await server.admin(
          "GET",
          `/v1/groups/${GROUP}/devices/${device}`,
          undefined,
          200,
        );
        expect(provisioned.state).toBe("provisioned");
        expect(statSync(join(box.host, "data")).mode & 0o777).toBe(0o700);

        const daemon = await runDaemon(box, config);
        expect(daemon.healthz).toBe(200);
        if (nodeTakesSignals(repo, target)) expect(daemon.exit).toBe(0);
        else
          console.warn(
            `iotad ${name}: its stop on SIGTERM is not checked here: this kernel runs i386 only under qemu-i386, which makes Node.js abort on any signal (the other platforms check it)`,
          );

        const renew = iotad("renew", "--config", config);
        expect(`${renew.status} ${renew.stderr}`).toBe(`0 ${renew.stderr}`);
        const renewed = await server.admin(
          "GET",
          `/v1/groups/${GROUP}/devices/${device}`,
          undefined,
          200,
        );
        expect(renewed.serial).not.toBe(provisioned.serial);

        const everything =
          [version, provision, renew].map((r) => r.stdout + r.stderr).join("") + daemon.log;
        expect(everything).not.toMatch(/DeprecationWarning|DEP0169|url\.parse/);
        expect(everything).not.toContain(deviceToken(secret, GROUP, device));
        expect(everything).not.toContain(secret);
      } finally {
        box.remove();
      }
    }, 300_000);
  },
);

const nodeHosts = TARGETS.filter(
  (t) => t.runner.kind === "foreign-node" && t.programs.includes("iotactl"),
);

describe.each(nodeHosts.map((t) => [t.name, t] as const))(
  "iotactl %s bundle on Debian's Node.js",
  (name, target) => {
    test("pins the server CA by its fingerprint, creates a group and a device, provisions it (a key openssl verifies); another CA is exit 7", async () => {
      const box = makeNodeBox(repo, target, artifact(name, "node-bundle", "iotactl"), tmp);
      try {
        const iotactl = (...args: string[]) => {
          const c = box.command(args);
          return runTool(c.file, c.args, c.env);
        };
        const ok = (r: ReturnType<typeof iotactl>) =>
          expect(`${r.status} ${r.stderr}`).toBe(`0 ${r.stderr}`);
        writeFileSync(join(box.host, "admin-token"), `${server.token()}\n`, { mode: 0o600 });
        const fingerprint = certificateFingerprints(server.serverCaPem)[0] ?? "";
        ok(
          iotactl(
            "configure",
            "--server",
            server.url,
            "--fingerprint",
            fingerprint,
            "--token-file",
            `${box.guest}/admin-token`,
          ),
        );
        const group = `ctl-${name}`;
        const created = iotactl("add", "group", group);
        ok(created);
        writeFileSync(join(box.host, "secret"), created.stdout);
        ok(iotactl("add", "device", "-g", group, "d1"));
        const provision = iotactl(
          "provision",
          "-g",
          group,
          "--secret-file",
          `${box.guest}/secret`,
          "--out",
          `${box.guest}/d1`,
          "d1",
        );
        ok(provision);
        expect(statSync(join(box.host, "d1", "key.pem")).mode & 0o777).toBe(0o600);
        const verify = runTool("openssl", [
          "verify",
          "-CAfile",
          join(box.host, "d1", "ca.pem"),
          join(box.host, "d1", "cert.pem"),
        ]);
        expect(verify.stdout).toContain(": OK");
        const record = await server.admin("GET", `/v1/groups/${group}/devices/d1`, undefined, 200);
        expect(record.state).toBe("provisioned");

        // The tenant CA did not issue the server's certificate: pinned instead, nothing is sent.
        const listed = iotactl("list", "groups", "--json");
        ok(listed);
        expect(listed.stdout).toContain(`"${group}"`);
        const wrongPin = box.command(["list", "groups"]);
        const refused = runTool(wrongPin.file, wrongPin.args, {
          ...wrongPin.env,
          IOTA_CA_FILE: `${box.guest}/d1/ca.pem`,
        });
        expect(refused.status).toBe(7);
        expect(refused.stderr).toContain(`cannot verify the identity of ${server.url}`);
        const everything = [
          created.stderr,
          provision.stdout,
          provision.stderr,
          refused.stderr,
        ].join("");
        expect(everything).not.toContain(server.token());
        expect(everything).not.toContain(created.stdout.trim());
      } finally {
        box.remove();
      }
    }, 300_000);
  },
);

describe("Debian's armel Node.js (linux-armel)", () => {
  test("runs on its ARMv6 CPU model and dies with SIGILL on ARMv5 (arm926): ARMv5 has no Node.js", () => {
    const armel = TARGETS.find((t) => t.name === "linux-armel");
    if (armel?.runner.kind !== "foreign-node" || armel.runner.qemuCpu !== "arm1176")
      throw new Error(
        "targets/linux-armel must run Debian's armel Node.js under qemu-arm -cpu arm1176",
      );
    // `--version` is enough (0.1 s each): Debian built the whole binary for ARMv6, its startup code too.
    const node = (cpu: string) => {
      const [file = "", ...args] = qemuNodeArgv(repo, armel, cpu);
      return spawnSync(file, [...args, "--version"], { encoding: "utf8" });
    };
    // The iotad test above ran it as this ARM1176 (ARMv6, Raspberry Pi 1/Zero); an ARMv5TEJ CPU stops at once.
    const v6 = node(armel.runner.qemuCpu);
    expect(`${v6.status} ${v6.stdout.trim()}`).toStartWith("0 v18.");
    expect(node("arm926").signal).toBe("SIGILL");
  }, 30_000);
});

describe("device image packaging", () => {
  test("the amd64 .deb unpacks into a root with the binary, a hardened unit for the iotad user, the SysV script and a placeholder config iotad refuses", () => {
    const deb = artifact("linux-x64", "deb");
    const root = mkdtempSync(join(tmp, "deb-root-"));
    expect(runTool("dpkg-deb", ["-x", deb, root]).status).toBe(0);
    expect(statSync(root).mode & 0o777).toBe(0o755);
    const field = (name: string) => runTool("dpkg-deb", ["-f", deb, name]).stdout.trim();
    expect([field("Package"), field("Architecture"), field("Version")]).toEqual([
      "iotad",
      "amd64",
      manifest.version,
    ]);
    const control = mkdtempSync(join(tmp, "deb-control-"));
    expect(runTool("dpkg-deb", ["-e", deb, control]).status).toBe(0);
    // The device config is not a conffile: a factory places it before installing (no prompt).
    expect(readFileSync(join(control, "conffiles"), "utf8").trim()).toBe("/etc/init.d/iotad");
    expect(statSync(join(control, "postinst")).mode & 0o111).not.toBe(0);

    expect(statSync(join(root, "usr/bin/iotad")).mode & 0o777).toBe(0o755);
    expect(statSync(join(root, "etc/init.d/iotad")).mode & 0o777).toBe(0o755);
    expect(existsSync(join(root, "etc/iotad"))).toBe(false);
    const unit = readFileSync(join(root, "lib/systemd/system/iotad.service"), "utf8");
    for (const line of [
      "ExecStart=/usr/bin/iotad run --config /etc/iotad/config.json",
      "Restart=always",
      "User=iotad",
      "ProtectSystem=strict",
      "NoNewPrivileges=yes",
      "StateDirectory=iotad",
      "PrivateTmp=yes",
      "RestartPreventExitStatus=2",
      "Environment=BUN_GC_TIMER_DISABLE=1",
    ]) {
      expect(unit.split("\n")).toContain(line);
    }
    // The shipped binary runs, and refuses the placeholder (postinst's config when none is placed).
    const check = runTool(join(root, "usr/bin/iotad"), [
      "check-config",
      "--config",
      join(root, "usr/share/iotad/config.example.json"),
    ]);
    expect(check.status).toBe(2);
    expect(check.stderr).toContain('"device"');
    // postinst starts nothing while the config is the placeholder (it only checks it).
    expect(readFileSync(join(control, "postinst"), "utf8")).toContain(
      'iotad check-config --config "$config"',
    );
  });

  test("the 32-bit .debs depend on the distribution's Node.js >= 18 and carry the bundle behind the launcher", () => {
    const nodeTargets = TARGETS.filter(
      (t) => t.runtime.kind === "node" && t.packaging?.debArch !== undefined,
    );
    expect(nodeTargets.map((t) => t.name)).toEqual(["linux-i386", "linux-armhf", "linux-armel"]);
    for (const target of nodeTargets) {
      const deb = artifact(target.name, "deb");
      expect(runTool("dpkg-deb", ["-f", deb, "Architecture"]).stdout.trim()).toBe(
        target.packaging?.debArch ?? "",
      );
      expect(runTool("dpkg-deb", ["-f", deb, "Depends"]).stdout.trim()).toBe(
        "nodejs (>= 18), passwd",
      );
      const files = runTool("dpkg-deb", ["-c", deb]).stdout;
      expect(files).toContain("./usr/lib/iotad/iotad.mjs");
      expect(files).toContain("./usr/bin/iotad");
    }
  });

  test("install.sh --root lays out an image root: the iotad user, program, config root:iotad 0640, unit, OpenRC script when the image has OpenRC", () => {
    const release = mkdtempSync(join(tmp, "release-"));
    expect(
      runTool("tar", [
        "-xJf",
        artifact("linux-x64", "tarball"),
        "-C",
        release,
        "--strip-components=1",
      ]).status,
    ).toBe(0);
    const root = mkdtempSync(join(tmp, "image-root-"));
    mkdirSync(join(root, "sbin"));
    mkdirSync(join(root, "etc"));
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    writeFileSync(join(root, "etc/group"), "root:x:0:\n");
    writeFileSync(join(root, "sbin/openrc-run"), "#!/bin/sh\n", { mode: 0o755 });
    writeFileSync(join(root, "sbin/nologin"), "#!/bin/sh\nexit 1\n", { mode: 0o755 });
    const config = join(tmp, "device.json");
    writeFileSync(config, "{}\n");
    const install = runTool("sh", [
      join(release, "install.sh"),
      "--root",
      root,
      "--config",
      config,
      "--enable",
    ]);
    expect(`${install.status} ${install.stderr}`).toBe("0 ");
    expect(statSync(join(root, "usr/bin/iotad")).mode & 0o777).toBe(0o755);
    // The user lives in the image's own files, never in this machine's.
    const user = /^iotad:[^:]*:(\d+):(\d+):.*:\/sbin\/nologin$/m.exec(
      readFileSync(join(root, "etc/passwd"), "utf8"),
    );
    expect(readFileSync(join(root, "etc/group"), "utf8")).toMatch(
      new RegExp(`^iotad:[^:]*:${user?.[2]}:`, "m"),
    );
    const placed = statSync(join(root, "etc/iotad/config.json"));
    expect([placed.mode & 0o777, placed.uid, placed.gid]).toEqual([0o640, 0, Number(user?.[2])]);
    const state = statSync(join(root, "var/lib/iotad"));
    expect([state.mode & 0o777, state.uid]).toEqual([0o700, Number(user?.[1])]);
    expect(readFileSync(join(root, "etc/init.d/iotad"), "utf8")).toStartWith("#!/sbin/openrc-run");
    // Hint: absolute links, as they must resolve inside the image, not on the build host.
    expect(readlinkSync(join(root, "etc/runlevels/default/iotad"))).toBe("/etc/init.d/iotad");
    expect(existsSync(join(root, "usr/lib/systemd/system/iotad.service"))).toBe(true);
    const version = runTool(join(root, "usr/bin/iotad"), ["version"]);
    expect(version.stdout).toContain(manifest.version);

    const bad = runTool("sh", [join(release, "install.sh"), "--root", join(tmp, "no-such-root")]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("is not a folder");
  });

  test("install.sh --config keeps a config already in the image (saying so) unless --replace-config", () => {
    const release = mkdtempSync(join(tmp, "release-"));
    const tarball = artifact("linux-x64", "tarball");
    expect(runTool("tar", ["-xJf", tarball, "-C", release, "--strip-components=1"]).status).toBe(0);
    const root = mkdtempSync(join(tmp, "image-root-"));
    mkdirSync(join(root, "etc"));
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n");
    writeFileSync(join(root, "etc/group"), "root:x:0:\n");
    const install = (...args: string[]) =>
      runTool("sh", [join(release, "install.sh"), "--root", root, "--init", "none", ...args]);
    const placed = join(root, "etc/iotad/config.json");
    const first = join(tmp, "dev-4.json");
    const second = join(tmp, "dev-5.json");
    writeFileSync(first, '{"device":"dev-4"}\n');
    writeFileSync(second, '{"device":"dev-5"}\n');
    expect(install("--config", first).status).toBe(0);
    expect(readFileSync(placed, "utf8")).toBe('{"device":"dev-4"}\n');

    const kept = install("--config", second);
    expect(kept.status).toBe(0);
    expect(kept.stderr).toBe(
      `install.sh: ${root}/etc/iotad/config.json is there already and is kept, not replaced by ${second}; to replace it, run again with --replace-config (and clear ${root}/var/lib/iotad for another device)\n`,
    );
    expect(readFileSync(placed, "utf8")).toBe('{"device":"dev-4"}\n');
    const same = install("--config", first);
    expect(`${same.status} ${same.stderr}`).toBe("0 ");
    expect(same.stdout).toContain("/etc/iotad/config.json (already this config)");

    const replaced = install("--config", second, "--replace-config");
    expect(`${replaced.status} ${replaced.stderr}`).toBe("0 ");
    expect(readFileSync(placed, "utf8")).toBe('{"device":"dev-5"}\n');
    expect(statSync(placed).mode & 0o777).toBe(0o640);
    const alone = install("--replace-config");
    expect(`${alone.status} ${alone.stderr}`).toBe(
      "2 install.sh: --replace-config needs --config FILE\n",
    );
    expect(install("--help").stdout).toContain("--replace-config");
  }, 60_000);

  test("the init scripts and maintainer scripts are valid shell", () => {
    for (const script of [
      "packaging/openrc/iotad",
      "packaging/sysv/iotad",
      "packaging/install.sh",
      "packaging/deb/postinst",
      "packaging/deb/prerm",
      "packaging/deb/postrm",
      "packaging/share/iotad-node-launcher.sh",
    ]) {
      const r = runTool("sh", ["-n", join(repo, script)]);
      expect(`${script}: ${r.status} ${r.stderr}`).toBe(`${script}: 0 `);
    }
  });
});
