/** The compiled iotactl against a real iota-server process: network failures, auth, 100,000 names, openssl. */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { GroupView } from "../src/core/wire.ts";
import { apiGet, buildIotactl, run, tempDir } from "./iotactl-support.ts";
import { startServerProcess, type ServerProcess } from "./helpers/server-process.ts";

let server: ServerProcess;
let dir: string;
let iotactl: string;

beforeAll(async () => {
  dir = tempDir("iotactl-bin-");
  iotactl = join(await buildIotactl(dir), "iotactl");
  server = await startServerProcess({ tls: true });
});
afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const env = () => ({
  IOTA_SERVER: server.url,
  IOTA_TOKEN: server.token(),
  IOTA_CA_FILE: join(server.data, "server-ca.pem"),
  XDG_CONFIG_HOME: join(dir, "xdg"),
});
const ctl = (args: string[], options: { env?: Record<string, string>; stdin?: string } = {}) =>
  run([iotactl, ...args], {
    env: { ...env(), ...options.env },
    cwd: dir,
    ...(options.stdin === undefined ? {} : { stdin: options.stdin }),
  });

/** Runs openssl; a missing openssl fails the test with a clear message instead of skipping it. */
function openssl(args: string[]) {
  try {
    return Bun.spawnSync(["openssl", ...args]);
  } catch (error) {
    throw new Error(
      `openssl is required for this test (apt-get install openssl): ${(error as Error).message}`,
    );
  }
}

/** A port nothing listens on: one the OS just handed out and took back. */
function closedPort(): number {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}

describe("compiled iotactl", () => {
  test("an unreachable server is exit 6 with a one-line reason", async () => {
    const r = await ctl(["list", "groups"], {
      env: { IOTA_SERVER: `http://127.0.0.1:${closedPort()}` },
    });
    expect(r.code).toBe(6);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("cannot reach the IoTA server");
    expect(r.stderr.trim().split("\n").length).toBe(1);
  });

  test("http:// for the HTTPS service: exit 6 at once, naming the https:// URL, nothing sent again", async () => {
    const plain = server.url.replace(/^https:/, "http:");
    const r = await ctl(["list", "groups"], { env: { IOTA_SERVER: plain } });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain(`it speaks TLS there: use ${server.url}`);
    expect(r.stderr).not.toContain("sending it again");
    expect(r.stderr.trim().split("\n").length).toBe(1);
  });

  test("a wrong admin token is exit 5 and the token is not echoed", async () => {
    const r = await ctl(["add", "group", "g"], { env: { IOTA_TOKEN: "definitely-wrong-token" } });
    expect(r.code).toBe(5);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("refused the admin token");
    expect(r.stderr).not.toContain("definitely-wrong-token");
  });

  test("100,000 names from one file in one command; a second run reports them as existing", async () => {
    expect((await ctl(["add", "group", "factory"])).code).toBe(0);
    const names = Array.from({ length: 100_000 }, (_, i) => `unit-${i + 1}`);
    writeFileSync(join(dir, "names.txt"), `${names.join("\n")}\n`);
    const r = await ctl(["add", "device", "-g", "factory", "--from-file", "names.txt"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("created: 100000\nalready existed: 0\ninvalid: 0\n");
    expect(r.code).toBe(0);
    expect((await apiGet<GroupView>(server, "/v1/groups/factory")).deviceCount).toBe(100_000);
    const again = await ctl([
      "add",
      "device",
      "-g",
      "factory",
      "--from-file",
      "names.txt",
      "--json",
    ]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({
      group: "factory",
      created: 0,
      existing: 100_000,
      invalid: [],
    });
  }, 180_000);

  test("Ctrl-C stops a bulk creation between batches with its summary, exit 130; the same command finishes it", async () => {
    expect((await ctl(["add", "group", "line-9"])).code).toBe(0);
    const args = ["add", "device", "-g", "line-9", "--count", "100000", "--prefix", "u-"];
    const proc = Bun.spawn([iotactl, ...args, "--batch-size", "100"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ...env() },
      stdout: "pipe",
      stderr: "pipe",
    });
    const count = async () =>
      (await apiGet<GroupView>(server, "/v1/groups/line-9")).deviceCount ?? 0;
    const deadline = Date.now() + 60_000;
    while ((await count()) === 0 && Date.now() < deadline) await Bun.sleep(20);
    proc.kill("SIGINT");
    const [stdout, stderr, code] = await Promise.all([
      new Response(proc.stdout).text(),
      new Response(proc.stderr).text(),
      proc.exited,
    ]);
    expect(stderr).toMatch(
      /interrupted after \d+ of 100000 names \(summary above\); run the same command again/,
    );
    expect(code).toBe(130);
    const created = Number(/^created: (\d+)\nalready existed: 0\ninvalid: 0\n$/.exec(stdout)?.[1]);
    expect(created).toBeGreaterThan(0);
    expect(created).toBeLessThan(100_000);
    // Every batch the service answered is counted, and nothing else was created.
    expect(await count()).toBe(created);
    const again = await ctl(args);
    expect(again.stdout).toBe(
      `created: ${100_000 - created}\nalready existed: ${created}\ninvalid: 0\n`,
    );
    expect(again.code).toBe(0);
  }, 120_000);

  test("Ctrl-C stops gen config between files: those written are whole, no temp file is left", async () => {
    const secret = (await ctl(["add", "group", "line-10"])).stdout;
    writeFileSync(join(dir, "line-10.secret"), secret);
    const names = Array.from({ length: 30_000 }, (_, i) => `c-${i + 1}`);
    writeFileSync(join(dir, "line-10.txt"), `${names.join("\n")}\n`);
    expect((await ctl(["add", "device", "-g", "line-10", "-f", "line-10.txt"])).code).toBe(0);
    const out = join(dir, "line-10-configs");
    const proc = Bun.spawn(
      [
        iotactl,
        "gen",
        "config",
        "-g",
        "line-10",
        "-f",
        "line-10.txt",
        "--secret-file",
        "line-10.secret",
        "--out",
        out,
      ],
      {
        cwd: dir,
        env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ...env() },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const written = () => (existsSync(out) ? readdirSync(out).length : 0);
    const deadline = Date.now() + 60_000;
    while (written() < 100 && Date.now() < deadline) await Bun.sleep(5);
    proc.kill("SIGINT");
    const [stderr, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    expect(stderr).toMatch(
      /interrupted: \d+ iotad configs of 30000 written to .*, each whole; run the same command again/,
    );
    expect(code).toBe(130);
    const files = readdirSync(out);
    expect(files.length).toBeGreaterThan(0);
    expect(files.length).toBeLessThan(30_000);
    expect(files.filter((f) => !f.endsWith(".json"))).toEqual([]);
    for (const file of files)
      expect(JSON.parse(readFileSync(join(out, file), "utf8")).group).toBe("line-10");
  }, 120_000);

  test("a reader that stops early (`| head -2`) ends iotactl quietly: no stack trace, exit 0", async () => {
    // Hint: the 100,000 devices of the test above are far more than a pipe's buffer holds.
    const pipeline = await run(
      ["bash", "-c", `set -o pipefail; "${iotactl}" list devices -g factory | head -2`],
      { env: env(), cwd: dir },
    );
    expect(pipeline.stderr).toBe("");
    expect(pipeline.code).toBe(0);
    const lines = pipeline.stdout.split("\n").filter(Boolean);
    expect(lines).toHaveLength(2);
    expect(lines[1]).toStartWith("unit-");
  }, 60_000);

  test("a secret on a full disk (`> /dev/full`): one line saying the group exists and how to get a new secret", async () => {
    const r = await run(["bash", "-c", `"${iotactl}" add group full-disk > /dev/full`], {
      env: env(),
      cwd: dir,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(
      "iotactl: group full-disk was created, but its provisioning secret could not be written to the output: no space left on the disk (ENOSPC); it is not shown again: once the output can be written, get a new one with iotactl rotate secret -g full-disk > FILE\n",
    );
    expect((await apiGet<GroupView>(server, "/v1/groups/full-disk")).name).toBe("full-disk");
    // The names-only listing on the same full disk: one line, no stack trace.
    const list = await run(["bash", "-c", `"${iotactl}" list groups -q > /dev/full`], {
      env: env(),
      cwd: dir,
    });
    expect(list.code).toBe(1);
    expect(list.stderr).toBe(
      "iotactl: cannot write the output (stdout): no space left on the disk (ENOSPC)\n",
    );
  });

  test("provision writes a key and a certificate that openssl verifies against the CA", async () => {
    const secret = (await ctl(["add", "group", "bench"])).stdout;
    writeFileSync(join(dir, "prov_secret.txt"), secret);
    expect((await ctl(["add", "device", "-g", "bench", "test-device-123"])).code).toBe(0);
    const r = await ctl([
      "provision",
      "-g",
      "bench",
      "test-device-123",
      "--secret-file",
      "prov_secret.txt",
      "--out",
      "dev",
    ]);
    expect(r.code).toBe(0);
    const out = join(dir, "dev");
    const verify = openssl(["verify", "-CAfile", join(out, "ca.pem"), join(out, "cert.pem")]);
    expect(verify.stdout.toString()).toContain("cert.pem: OK");
    const key = openssl(["pkey", "-in", join(out, "key.pem"), "-pubout"]);
    const certKey = openssl(["x509", "-in", join(out, "cert.pem"), "-noout", "-pubkey"]);
    expect(key.stdout.toString()).toBe(certKey.stdout.toString());
    expect(readFileSync(join(out, "key.pem"), "utf8")).not.toBe("");
    // The CRL and CA from the CLI are what openssl reads.
    const crl = await ctl(["get", "crl"]);
    writeFileSync(join(dir, "crl.pem"), crl.stdout);
    expect(openssl(["crl", "-in", join(dir, "crl.pem"), "-noout"]).exitCode).toBe(0);
  });

  test("gen config from the guide's files, then the token in a generated config provisions the device", async () => {
    writeFileSync(join(dir, "device_names.txt"), "cfg-1\ncfg-2\n");
    const secret = (await ctl(["add", "group", "cfg"])).stdout;
    expect((await ctl(["add", "device", "-g", "cfg", "-f", "device_names.txt"])).code).toBe(0);
    const r = await ctl(
      ["gen", "config", "-g", "cfg", "-f", "device_names.txt", "--secret", "-", "--out", "configs"],
      { stdin: secret },
    );
    expect(r.code).toBe(0);
    const config = JSON.parse(readFileSync(join(dir, "configs", "cfg-2.json"), "utf8"));
    expect(config.server).toBe(server.url);
    expect(JSON.stringify(config)).not.toContain(secret.trim());
    const p = await ctl(["provision", "-g", "cfg", "cfg-2", "--token", "-", "--out", "cfg-2"], {
      stdin: config.token,
    });
    expect(p.code).toBe(0);
  });
});
