/**
 * iotactl when the disk says no (permission denied, full, read-only, a file where a folder should be):
 * one line naming the path and the cause, a non-zero exit, and nothing lost on the server's side.
 */

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createTestService, type TestService } from "./helpers/test-service.ts";
import { appFetch, runIotactl } from "./helpers/iotactl-in-process.ts";
import { systemFiles, type Files } from "../src/iotactl/io.ts";
import { x509 } from "../src/core/x509.ts";
import { importPrivateKeyPem } from "../src/core/csr.ts";
import { tempDir } from "./iotactl-support.ts";

const SERVER = "https://iota.test";
let svc: TestService;
let dir: string;

/** Runs iotactl in-process against the in-process service, over `files` and a stdout that may fail. */
async function cli(argv: string[], options: { files?: Files; stdoutFails?: string } = {}) {
  return await runIotactl(argv, {
    dir,
    ...options,
    env: { IOTA_SERVER: SERVER, IOTA_TOKEN: svc.adminToken },
    fetch: appFetch(svc.app),
  });
}

/** An error as node:fs throws it. */
function fsError(code: string, syscall: string, path: string): Error {
  return Object.assign(new Error(`${code}: failed, ${syscall} '${path}'`), { code, syscall, path });
}

/** The real file system, except that writing a file named `name` fails with `code`. */
function failingWrite(name: string, code: string): Files {
  return {
    ...systemFiles,
    writeFile: (path, data, mode) => {
      if (path.endsWith(`/${name}`)) throw fsError(code, "open", `${path}.1234.tmp`);
      systemFiles.writeFile(path, data, mode);
    },
  };
}

/** The one line on stderr; fails the test when there are more. */
function oneLine(stderr: string): string {
  const lines = stderr.trim().split("\n");
  expect(lines).toHaveLength(1);
  expect(stderr).not.toContain("unexpected failure");
  return lines[0] ?? "";
}

beforeEach(async () => {
  svc = await createTestService();
  dir = tempDir("iotactl-write-");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("provision", () => {
  let provision: string[];
  beforeEach(async () => {
    writeFileSync(join(dir, "prov_secret.txt"), (await cli(["add", "group", "g"])).stdout);
    expect((await cli(["add", "device", "-g", "g", "dev-1"])).code).toBe(0);
    provision = ["provision", "-g", "g", "dev-1", "--secret-file", "prov_secret.txt", "--out", "o"];
  });
  const state = async () =>
    JSON.parse((await cli(["get", "device", "-g", "g", "dev-1", "--json"])).stdout).state;

  test("a folder that cannot hold the key stops it before anything is sent: the device stays unprovisioned", async () => {
    for (const code of ["EACCES", "ENOSPC"]) {
      const r = await cli(provision, { files: failingWrite("key.pem", code) });
      expect(r.code).toBe(1);
      const line = oneLine(r.stderr);
      expect(line).toContain(`cannot write the device key ${join(dir, "o", "key.pem")}`);
      expect(line).toContain(code === "EACCES" ? "permission denied (EACCES)" : "no space left");
      expect(line).toContain("nothing was sent to the server");
      expect(r.stdout).toBe("");
      expect(await state()).toBe("created");
      expect(existsSync(join(dir, "o"))).toBe(false);
    }
    // Once the folder can hold it, the same command provisions the device.
    expect((await cli(provision)).code).toBe(0);
    expect(await state()).toBe("provisioned");
  });

  test("a certificate that cannot be written after issuance: the key is kept and the same command finishes", async () => {
    const r = await cli(provision, { files: failingWrite("cert.pem", "ENOSPC") });
    expect(r.code).toBe(1);
    const line = oneLine(r.stderr);
    const key = join(dir, "o", "key.pem");
    expect(line).toContain("device g/dev-1 is provisioned");
    expect(line).toContain(`${join(dir, "o", "cert.pem")} could not be written: no space left`);
    expect(line).toContain(`its key is kept in ${key}`);
    expect(line).toContain("run the same command again");
    expect(line).toContain("iotactl reset device -g g dev-1 --forget-key");
    expect(line).not.toContain(readFileSync(join(dir, "prov_secret.txt"), "utf8").trim());
    expect(statSync(key).mode & 0o777).toBe(0o600);
    expect(existsSync(join(dir, "o", "cert.pem"))).toBe(false);
    expect(await state()).toBe("provisioned");
    const keyPem = readFileSync(key, "utf8");
    // The same command again sends the kept key and gets its certificate, instead of "another key".
    const again = await cli(provision);
    expect(again.stderr).toContain("Provisioned g/dev-1");
    expect(again.code).toBe(0);
    expect(readFileSync(key, "utf8")).toBe(keyPem);
    const cert = new x509.X509Certificate(readFileSync(join(dir, "o", "cert.pem"), "utf8"));
    const { publicKey } = await importPrivateKeyPem(keyPem);
    expect(Buffer.from(cert.publicKey.rawData)).toEqual(
      Buffer.from(await crypto.subtle.exportKey("spki", publicKey)),
    );
    expect(existsSync(join(dir, "o", "key.pending-for"))).toBe(false);
    // A finished folder is still never overwritten.
    expect((await cli(provision)).code).toBe(4);
  });

  test("a key left for one device is never sent for another, nor is a key iotactl did not leave", async () => {
    expect((await cli(["add", "device", "-g", "g", "dev-2"])).code).toBe(0);
    expect((await cli(provision, { files: failingWrite("cert.pem", "ENOSPC") })).code).toBe(1);
    const other = provision.map((arg) => (arg === "dev-1" ? "dev-2" : arg));
    const refused = await cli(other);
    expect(refused.code).toBe(4);
    expect(oneLine(refused.stderr)).toContain("made for g/dev-1");
    const dev2 = JSON.parse((await cli(["get", "device", "-g", "g", "dev-2", "--json"])).stdout);
    expect(dev2.state).toBe("created");
    // A key.pem without the note (put there by hand) is refused as before.
    rmSync(join(dir, "o", "key.pending-for"));
    expect((await cli(provision)).code).toBe(4);
    expect((await cli(other)).code).toBe(4);
  });
});

describe("a secret on a stdout that cannot be written", () => {
  test("add group: one line saying the group exists and how to get a new secret; the secret is not shown", async () => {
    for (const [code, words, name] of [
      ["ENOSPC", "no space left on the disk (ENOSPC)", "g1"],
      ["EIO", "input/output error", "g2"],
    ] as const) {
      const r = await cli(["add", "group", name], { stdoutFails: code });
      expect(r.code).toBe(1);
      const line = oneLine(r.stderr);
      expect(line).toContain(`group ${name} was created`);
      expect(line).toContain(words);
      expect(line).toContain(`iotactl rotate secret -g ${name} > FILE`);
      expect(line).not.toContain(r.stdout.trim());
      expect((await cli(["get", "group", name])).code).toBe(0);
    }
  });

  test("rotate secret: one line saying it was rotated and to rotate again", async () => {
    await cli(["add", "group", "g"]);
    const r = await cli(["rotate", "secret", "-g", "g"], { stdoutFails: "ENOSPC" });
    expect(r.code).toBe(1);
    const line = oneLine(r.stderr);
    expect(line).toContain("the provisioning secret of group g was rotated");
    expect(line).toContain("iotactl rotate secret -g g > FILE again");
    expect(line).not.toContain(r.stdout.trim());
  });

  test("any other command: one line naming the output and the cause", async () => {
    await cli(["add", "group", "g"]);
    const r = await cli(["list", "groups"], { stdoutFails: "EIO" });
    expect(r.code).toBe(1);
    expect(oneLine(r.stderr)).toContain("cannot write the output (stdout): input/output error");
  });
});

describe("gen config", () => {
  const NAMES = Array.from({ length: 10 }, (_, i) => `unit-${i + 1}`);
  let gen: string[];
  beforeEach(async () => {
    writeFileSync(join(dir, "prov_secret.txt"), (await cli(["add", "group", "g"])).stdout);
    writeFileSync(join(dir, "names.txt"), `${NAMES.join("\n")}\n`);
    expect((await cli(["add", "device", "-g", "g", "-f", "names.txt"])).code).toBe(0);
    gen = ["gen", "config", "-g", "g", "-f", "names.txt", "--secret-file", "prov_secret.txt"];
  });

  test("--out naming a file: one line naming it and the cause, not the clean-up of a temp file", async () => {
    writeFileSync(join(dir, "afile"), "x");
    const r = await cli([...gen, "--out", "afile"]);
    expect(r.code).toBe(1);
    const line = oneLine(r.stderr);
    expect(line).toContain(`cannot write iotad configs to ${join(dir, "afile")}: not a folder`);
    expect(line).not.toContain(".tmp");
    expect(line).not.toContain("EFAULT");
  });

  test("a full disk midway: how many were written, each whole, and that the same command finishes", async () => {
    const fullAfterThree: Files = {
      ...systemFiles,
      writeFiles: async (folder, files, mode, onWritten) => {
        const first = [...files].slice(0, 3);
        await systemFiles.writeFiles(folder, first, mode, onWritten);
        throw fsError("ENOSPC", "write", join(folder, "unit-4.json.1234.tmp"));
      },
    };
    const r = await cli([...gen, "--out", "configs"], { files: fullAfterThree });
    expect(r.code).toBe(1);
    const line = oneLine(r.stderr);
    expect(line).toContain(`cannot write iotad configs to ${join(dir, "configs")}`);
    expect(line).toContain("no space left on the disk (ENOSPC)");
    expect(line).toContain("3 of 10 written, each whole");
    expect(line).toContain("run the same command again");
    expect(readdirSync(join(dir, "configs"))).toHaveLength(3);
    expect((await cli([...gen, "--out", "configs"])).code).toBe(0);
    expect(readdirSync(join(dir, "configs")).sort()).toEqual(NAMES.map((n) => `${n}.json`).sort());
  });
});
