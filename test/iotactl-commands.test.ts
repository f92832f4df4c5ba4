/** Every iotactl command against an in-process iota-server (real CA, in-memory SQLite): results, errors, exit codes. */

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { readFileSync, rmSync, statSync, writeFileSync, existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { createTestService, type TestService } from "./helpers/test-service.ts";
import { appFetch, runIotactl } from "./helpers/iotactl-in-process.ts";
import { AgentConfigSchema } from "../src/core/agent-config.ts";
import { deviceToken } from "../src/core/token.ts";
import { x509 } from "../src/core/x509.ts";
import { tempDir } from "./iotactl-support.ts";
import { type Files, systemFiles } from "../src/iotactl/io.ts";

const SERVER = "https://iota.test";
let svc: TestService;
let dir: string;

/** Runs iotactl in-process; fetch goes to the in-process app. */
async function cli(
  argv: string[],
  options: {
    env?: Record<string, string>;
    stdin?: string;
    tty?: boolean;
    files?: Files;
    dir?: string;
  } = {},
) {
  return await runIotactl(argv, {
    dir,
    ...options,
    env: { IOTA_SERVER: SERVER, IOTA_TOKEN: svc.adminToken, ...options.env },
    fetch: appFetch(svc.app),
  });
}

/** A CA certificate (PEM) to pin: the in-process service's tenant CA serves as any CA here. */
async function caPem(): Promise<string> {
  return (await cli(["get", "ca"])).stdout;
}

beforeEach(async () => {
  svc = await createTestService();
  dir = tempDir("iotactl-cmd-");
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("add group", () => {
  test("prints the secret and nothing else on stdout; people's message on stderr", async () => {
    const r = await cli(["add", "group", "room2-lights"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(r.stderr).toContain("Created group room2-lights");
    expect(r.stderr).not.toContain(r.stdout.trim());
  });

  test("an existing group is a conflict (exit 4) with the server's reason", async () => {
    await cli(["add", "group", "room2-lights"]);
    const r = await cli(["add", "group", "room2-lights"]);
    expect(r.code).toBe(4);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('A group named "room2-lights" already exists');
    // Hint: `add group g > prov_secret.txt` run again: the shell emptied the file; the answer says so and how to recover.
    expect(r.stderr).toContain("if this command's output went to a file, that file is now empty");
    expect(r.stderr).toContain("iotactl rotate secret -g room2-lights > FILE");
  });

  test("--validity and --renew-grace reach the group; bad values are usage errors before any request", async () => {
    expect(
      (await cli(["add", "group", "short", "--validity", "1h", "--renew-grace", "0"])).code,
    ).toBe(0);
    const g = await cli(["get", "group", "short", "--json"]);
    expect(JSON.parse(g.stdout)).toMatchObject({ name: "short", validity: 3600, renewGrace: 0 });
    const bad = await cli(["add", "group", "x", "--validity", "soon"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--validity must be a duration");
    expect((await cli(["get", "group", "x"])).code).toBe(3);
    const posts = () => svc.log.lines.filter((l) => l.includes("POST /v1/groups")).length;
    const before = posts();
    for (const [flag, value, words] of [
      ["--validity", "0", "between 1m and 398d"],
      ["--validity", "59", "between 1m and 398d"],
      ["--validity", "399d", "between 1m and 398d"],
      ["--renew-grace", "366d", "between 0 and 365d"],
    ] as const) {
      const r = await cli(["add", "group", "x", flag, value]);
      expect({ flag, value, code: r.code }).toEqual({ flag, value, code: 2 });
      expect(r.stderr).toContain(`${flag} must be ${words}, got "${value}"`);
    }
    expect(posts()).toBe(before);
    expect(
      (await cli(["add", "group", "edge", "--validity", "398d", "--renew-grace", "365d"])).code,
    ).toBe(0);
  });

  test.each([["Room2"], ["room_2"], ["x-"], ["a".repeat(64)]])(
    "bad name %p is a usage error naming the rule",
    async (name) => {
      const r = await cli(["add", "group", name]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("group name");
      expect(r.stderr.trim().split("\n").length).toBe(1);
    },
  );

  test("--json gives the group with its secret", async () => {
    const r = await cli(["--json", "add", "group", "g1"]);
    expect(JSON.parse(r.stdout)).toMatchObject({
      name: "g1",
      provisioningSecret: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    });
  });
});

describe("add device", () => {
  beforeEach(async () => {
    await cli(["add", "group", "g"]);
  });

  test("one device; again is a conflict; unknown group is not found", async () => {
    const one = await cli(["add", "device", "-g", "g", "test-device-123"]);
    expect(one).toMatchObject({ code: 0, stdout: "" });
    expect(one.stderr).toContain("Created device test-device-123");
    expect((await cli(["add", "device", "-g", "g", "test-device-123"])).code).toBe(4);
    const listing = await cli(["list", "devices", "-g", "nope"]);
    expect([listing.code, listing.stdout]).toEqual([3, ""]);
    const empty = await cli(["list", "devices", "-g", "g"]);
    expect(empty.stdout).toStartWith("NAME");
    const missing = await cli(["add", "device", "-g", "nope", "d"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('No group named "nope"');
  });

  test("usage errors: no group, bad device name, mixed sources, --prefix without --count", async () => {
    for (const [argv, text] of [
      [["add", "device", "d"], "--group is required"],
      [["add", "device", "-g", "g", "Bad_Name"], 'device name "Bad_Name"'],
      [["add", "device", "-g", "g", "d", "--count", "3", "--prefix", "p-"], "not several"],
      [["add", "device", "-g", "g", "--prefix", "p-"], "go with --count"],
      [["add", "device", "-g", "g", "--count", "3"], "--count needs --prefix"],
      [
        ["add", "device", "-g", "g", "--count", "three", "--prefix", "p-"],
        "--count must be a whole number",
      ],
      [["add", "device", "-g", "g", "--count", "3", "--prefix", "P-"], "uppercase"],
      [["add", "device", "-g", "g", "--frobnicate"], "Unknown option"],
      [["add", "device", "-g", "g", "--from-file", "missing.txt"], "missing.txt: no such file"],
    ] as const) {
      const r = await cli([...argv]);
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
      expect(r.stderr).toContain(text);
    }
    expect(svc.log.lines.filter((l) => l.includes("/devices")).length).toBe(0);
  });

  test("from a file: blank lines, CRLF, no final newline; invalid names reported with reasons, exit 1", async () => {
    writeFileSync(join(dir, "names.txt"), "a1\n\nBad_Name\r\nb2\r\n   \nthis--one\nc3");
    const r = await cli(["add", "device", "-g", "g", "--from-file", "names.txt"]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("created: 3\nalready existed: 0\ninvalid: 2\n");
    expect(r.stderr).toContain('invalid name "Bad_Name": contains uppercase');
    expect(r.stderr).toContain('invalid name "this--one": contains two dashes');
    expect(r.stderr).toContain("2 of 5 names were invalid");
    const list = await cli(["list", "devices", "-g", "g", "--json"]);
    expect(JSON.parse(list.stdout).map((d: { name: string }) => d.name)).toEqual([
      "a1",
      "b2",
      "c3",
    ]);
  });

  test("a spreadsheet's export: the byte-order mark is dropped, repeats are named, invisible characters shown", async () => {
    writeFileSync(join(dir, "export.txt"), "\ufeffbom-1\r\nbom-2\r\nbom-1\r\nnb\u00a0sp\r\n");
    const r = await cli(["add", "device", "-g", "g", "--from-file", "export.txt"]);
    expect(r.stdout).toBe("created: 2\nalready existed: 0\ninvalid: 1\n");
    expect(r.stderr).toContain('1 repeated name ignored (each is used once): "bom-1"');
    expect(r.stderr).toContain('invalid name "nb\\u00a0sp": contains U+00A0');
    expect(r.code).toBe(1);
    const list = await cli(["list", "devices", "-g", "g", "--json"]);
    expect(JSON.parse(list.stdout).map((d: { name: string }) => d.name)).toEqual([
      "bom-1",
      "bom-2",
    ]);
  });

  test("re-running the same list is safe: existing devices reported, exit 0", async () => {
    writeFileSync(join(dir, "names.txt"), "a1\nb2\n");
    expect((await cli(["add", "device", "-g", "g", "-f", "names.txt"])).code).toBe(0);
    const again = await cli(["add", "device", "-g", "g", "-f", "names.txt", "--json"]);
    expect(again.code).toBe(0);
    expect(JSON.parse(again.stdout)).toEqual({ group: "g", created: 0, existing: 2, invalid: [] });
  });

  test("from stdin, numbered, several names; batches are split by --batch-size", async () => {
    expect(
      (await cli(["add", "device", "-g", "g", "--from-file", "-"], { stdin: "s1\ns2\ns1\n" }))
        .stdout,
    ).toContain("created: 2");
    const numbered = await cli([
      "add",
      "device",
      "-g",
      "g",
      "--count",
      "25",
      "--prefix",
      "test-device-",
      "--start",
      "5",
      "--batch-size",
      "10",
    ]);
    expect(numbered.stdout).toContain("created: 25");
    expect(svc.log.lines.filter((l) => l.includes("POST /v1/groups/g/devices 200")).length).toBe(4);
    const names = JSON.parse((await cli(["list", "devices", "-g", "g", "--json"])).stdout).map(
      (d: { name: string }) => d.name,
    );
    expect(names).toContain("test-device-5");
    expect(names).toContain("test-device-29");
    expect(names).not.toContain("test-device-30");
    expect((await cli(["add", "device", "-g", "g", "m1", "m2"])).stdout).toContain("created: 2");
  });

  test("the progress bar appears only when stderr is a terminal", async () => {
    const plain = await cli(["add", "device", "-g", "g", "--count", "3", "--prefix", "p-"]);
    expect(plain.stderr).not.toContain("[");
    const tty = await cli(["add", "device", "-g", "g", "--count", "3", "--prefix", "q-"], {
      tty: true,
    });
    expect(tty.stderr).toContain("100%");
    expect(tty.stdout).not.toContain("100%");
  });
});

describe("list, get, delete, revoke, reset, rotate", () => {
  beforeEach(async () => {
    await cli(["add", "group", "g"]);
    await cli(["add", "device", "-g", "g", "--count", "2500", "--prefix", "d-"]);
  });

  test("list devices streams every page; list groups shows the count", async () => {
    const r = await cli(["list", "devices", "-g", "g"]);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split("\n").length).toBe(2501);
    expect(r.stderr).toContain("2500 devices in group g");
    await cli(["add", "group", "solo"]);
    await cli(["add", "device", "-g", "solo", "only-one"]);
    expect((await cli(["list", "devices", "-g", "solo"])).stderr).toContain(
      "1 device in group solo",
    );
    expect(svc.log.lines.filter((l) => l.includes("GET /v1/groups/g/devices")).length).toBe(3);
    const groups = await cli(["list", "groups"]);
    expect(groups.stdout).toMatch(/^g\s+2500\s+30d/m);
    expect(JSON.parse((await cli(["list", "groups", "--json"])).stdout)[0]).toMatchObject({
      name: "g",
      deviceCount: 2500,
    });
  });

  test("list devices -q prints every name of every page, one per line, and nothing else", async () => {
    const r = await cli(["list", "devices", "-g", "g", "-q"]);
    expect(r.code).toBe(0);
    const names = Array.from({ length: 2500 }, (_, i) => `d-${i + 1}`).sort();
    expect(r.stdout).toBe(`${names.join("\n")}\n`);
    const created = await cli(["list", "devices", "-g", "g", "--quiet", "--state", "created"]);
    expect(created.stdout.split("\n").filter(Boolean)).toHaveLength(2500);
    expect((await cli(["list", "devices", "-g", "g", "--state", "revoked", "-q"])).stdout).toBe("");
  });

  test("get device; revoke; reset; delete; each on a missing device is exit 3", async () => {
    expect((await cli(["get", "device", "-g", "g", "d-1"])).stdout).toMatch(/^state:\s+created$/m);
    expect((await cli(["revoke", "device", "-g", "g", "d-1"])).code).toBe(0);
    expect(
      JSON.parse((await cli(["get", "device", "-g", "g", "d-1", "--json"])).stdout).state,
    ).toBe("revoked");
    expect((await cli(["reset", "device", "-g", "g", "d-1", "--json"])).stdout).toContain(
      '"state": "created"',
    );
    expect((await cli(["delete", "device", "-g", "g", "d-1"])).code).toBe(0);
    for (const verb of ["get", "revoke", "reset", "delete"]) {
      const r = await cli([verb, "device", "-g", "g", "d-1"]);
      expect({ verb, code: r.code }).toEqual({ verb, code: 3 });
      expect(r.stderr).toContain('No device named "d-1"');
    }
  });

  test("delete group refuses a group with devices (exit 4) unless --force", async () => {
    const refused = await cli(["delete", "group", "g"]);
    expect(refused.code).toBe(4);
    expect(refused.stderr).toContain("force");
    expect((await cli(["delete", "group", "g", "--force"])).code).toBe(0);
    expect((await cli(["get", "group", "g"])).code).toBe(3);
  });

  test("rotate secret prints only the new secret, which provisions while the old one does not", async () => {
    const r = await cli(["rotate", "secret", "-g", "g"]);
    expect(r.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(r.stderr).toContain("made from the old secret no longer provision");
    writeFileSync(join(dir, "new.txt"), r.stdout);
    expect(
      (await cli(["provision", "-g", "g", "d-2", "--secret-file", "new.txt", "--out", "d2"])).code,
    ).toBe(0);
    expect((await cli(["rotate", "secret", "-g", "nope"])).code).toBe(3);
  });
});

describe("provision, get ca, get crl", () => {
  test("writes key.pem 0600, cert.pem, ca.pem into a 0700 folder; the certificate chains to the CA", async () => {
    const secret = (await cli(["add", "group", "g"])).stdout.trim();
    await cli(["add", "device", "-g", "g", "dev-1"]);
    const r = await cli(["provision", "-g", "g", "dev-1", "--secret", "-", "--out", "out/dev-1"], {
      stdin: `${secret}\n`,
    });
    expect(r.code).toBe(0);
    const out = join(dir, "out/dev-1");
    expect(r.stdout).toBe(`${out}\n`);
    expect(statSync(out).mode & 0o777).toBe(0o700);
    expect(statSync(join(out, "key.pem")).mode & 0o777).toBe(0o600);
    const cert = new x509.X509Certificate(readFileSync(join(out, "cert.pem"), "utf8"));
    const ca = new x509.X509Certificate(readFileSync(join(out, "ca.pem"), "utf8"));
    expect(cert.subject).toBe("CN=dev-1");
    expect(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true })).toBe(true);
    expect((await cli(["get", "ca"])).stdout).toBe(readFileSync(join(out, "ca.pem"), "utf8"));
    // A folder that already holds a key is never overwritten.
    expect(
      (
        await cli(["provision", "-g", "g", "dev-1", "--secret", "-", "--out", "out/dev-1"], {
          stdin: secret,
        })
      ).code,
    ).toBe(4);
  });

  test("credential flags: exactly one; a wrong secret is an auth failure (exit 5) and writes nothing", async () => {
    await cli(["add", "group", "g"]);
    await cli(["add", "device", "-g", "g", "dev-1"]);
    expect((await cli(["provision", "-g", "g", "dev-1", "--out", "o"])).stderr).toContain(
      "exactly one of",
    );
    expect(
      (await cli(["provision", "-g", "g", "dev-1", "--token", "t", "--secret", "s", "--out", "o"]))
        .code,
    ).toBe(2);
    expect((await cli(["provision", "-g", "g", "dev-1", "--token", "t"])).stderr).toContain(
      "--out is required",
    );
    const wrong = await cli([
      "provision",
      "-g",
      "g",
      "dev-1",
      "--token",
      "not-the-token",
      "--out",
      "o",
    ]);
    expect(wrong.code).toBe(5);
    expect(wrong.stderr).not.toContain("not-the-token");
    expect(existsSync(join(dir, "o"))).toBe(false);
  });

  test("get crl prints the X509 CRL PEM", async () => {
    const r = await cli(["get", "crl"]);
    expect(r.stdout).toStartWith("-----BEGIN X509 CRL-----");
  });
});

describe("gen config", () => {
  let secret: string;
  beforeEach(async () => {
    secret = (await cli(["add", "group", "room2-lights"])).stdout.trim();
    writeFileSync(join(dir, "prov_secret.txt"), `${secret}\n`);
    writeFileSync(join(dir, "device_names.txt"), "test-device-1\ntest-device-2\n");
    expect(
      (await cli(["add", "device", "-g", "room2-lights", "-f", "device_names.txt"])).code,
    ).toBe(0);
  });

  test("one 0600 file per device that AgentConfigSchema accepts, with the device token and never the secret", async () => {
    const ca = (await cli(["get", "ca"])).stdout;
    writeFileSync(join(dir, "broker-ca.pem"), ca);
    const r = await cli([
      "gen",
      "config",
      "-g",
      "room2-lights",
      "--from-file",
      "device_names.txt",
      "--secret-file",
      "prov_secret.txt",
      "--out",
      "configs",
      "--server-url",
      "https://iota.example.com",
      "--mqtt-url",
      "mqtts://broker.example.com:8883",
      "--mqtt-ca",
      "broker-ca.pem",
      "--status-listen",
      "0.0.0.0:7780",
      "--data-dir",
      "/data/iotad",
    ]);
    expect(r.code).toBe(0);
    for (const device of ["test-device-1", "test-device-2"]) {
      const path = join(dir, "configs", `${device}.json`);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      const text = readFileSync(path, "utf8");
      expect(text).not.toContain(secret);
      const config = v.parse(AgentConfigSchema, JSON.parse(text));
      expect(config).toMatchObject({
        server: "https://iota.example.com",
        group: "room2-lights",
        device,
        token: deviceToken(secret, "room2-lights", device),
        statusListen: "0.0.0.0:7780",
        dataDir: "/data/iotad",
        mqtt: { url: "mqtts://broker.example.com:8883", ca },
      });
    }
  });

  test("the generated token provisions the device", async () => {
    await cli(
      ["gen", "config", "-g", "room2-lights", "test-device-1", "--secret", "-", "--out", "c"],
      { stdin: secret },
    );
    const config = JSON.parse(readFileSync(join(dir, "c", "test-device-1.json"), "utf8"));
    expect(config.server).toBe(SERVER);
    const r = await cli([
      "provision",
      "-g",
      "room2-lights",
      "test-device-1",
      "--token",
      config.token,
      "--out",
      "p",
    ]);
    expect(r.code).toBe(0);
  });

  test("serverCa: the CA pinned for iotactl's server, --server-ca for another, none (with a warning) otherwise", async () => {
    const ca = await caPem();
    writeFileSync(join(dir, "pinned.pem"), ca);
    const gen = async (extra: string[], env: Record<string, string> = {}) => {
      const out = `c${Math.random().toString(36).slice(2)}`;
      const r = await cli(
        [
          "gen",
          "config",
          "-g",
          "room2-lights",
          "test-device-1",
          "--secret-file",
          "prov_secret.txt",
          "--out",
          out,
          ...extra,
        ],
        { env },
      );
      const file = join(dir, out, "test-device-1.json");
      return {
        ...r,
        config: existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : undefined,
      };
    };
    const pinned = { IOTA_CA_FILE: "pinned.pem" };
    const same = await gen([], pinned);
    expect(same.code).toBe(0);
    expect(v.parse(AgentConfigSchema, same.config)).toMatchObject({ server: SERVER, serverCa: ca });
    const spelledOtherwise = await gen(["--server-url", `${SERVER.toUpperCase()}:443/`], pinned);
    expect(spelledOtherwise.config.serverCa).toBe(ca);
    const other = await gen(["--server-url", "https://iota.example.com"], pinned);
    expect(other.code).toBe(0);
    expect(other.config.serverCa).toBeUndefined();
    expect(other.stderr).toContain(
      "devices will verify https://iota.example.com against their system roots",
    );
    const explicit = await gen([
      "--server-url",
      "https://iota.example.com",
      "--server-ca",
      "pinned.pem",
    ]);
    expect(explicit.config.serverCa).toBe(ca);
    expect(explicit.stderr).not.toContain("system roots");
    const systemRoots = await gen([]);
    expect(systemRoots.config.serverCa).toBeUndefined();
  });

  test("plain http beyond loopback for devices: refused, or insecureHttp with --insecure; --server-ca needs https", async () => {
    const base = [
      "gen",
      "config",
      "-g",
      "room2-lights",
      "test-device-1",
      "--secret-file",
      "prov_secret.txt",
    ];
    const refused = await cli([...base, "--out", "a", "--server-url", "http://10.0.0.5:8440"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("refusing http://10.0.0.5:8440 (--server-url) for devices");
    expect(existsSync(join(dir, "a"))).toBe(false);
    const allowed = await cli([
      "--insecure",
      ...base,
      "--out",
      "b",
      "--server-url",
      "http://10.0.0.5:8440",
    ]);
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toContain('"insecureHttp": true');
    const config = JSON.parse(readFileSync(join(dir, "b", "test-device-1.json"), "utf8"));
    expect(v.parse(AgentConfigSchema, config)).toMatchObject({
      server: "http://10.0.0.5:8440",
      insecureHttp: true,
    });
    const loopback = await cli([...base, "--out", "c", "--server-url", "http://127.0.0.1:8440"]);
    expect(loopback.code).toBe(0);
    expect(
      JSON.parse(readFileSync(join(dir, "c", "test-device-1.json"), "utf8")).insecureHttp,
    ).toBeUndefined();
    const caWithHttp = await cli([
      ...base,
      "--out",
      "d",
      "--server-url",
      "http://127.0.0.1:8440",
      "--server-ca",
      "prov_secret.txt",
    ]);
    expect(caWithHttp.code).toBe(2);
    expect(caWithHttp.stderr).toContain("--server-ca goes with an https server");
  });

  test("bad flags are named before any file is written", async () => {
    for (const [argv, text] of [
      [["--secret", "abc"], 'only accepts "-"'],
      [[], "exactly one of --secret-file"],
      [
        ["--secret-file", "prov_secret.txt", "--mqtt-ca", "x.pem"],
        "--mqtt-ca goes with --mqtt-url",
      ],
      [
        ["--secret-file", "prov_secret.txt", "--mqtt-url", "http://x"],
        "--mqtt-url must start with mqtts://",
      ],
      [
        ["--secret-file", "prov_secret.txt", "--status-listen", "nowhere"],
        "--status-listen must be HOST:PORT",
      ],
      [
        ["--secret-file", "prov_secret.txt", "--server-url", "ftp://x"],
        "--server-url must start with http",
      ],
      [["--secret-file", "nothing.txt"], "nothing.txt: no such file"],
    ] as const) {
      const r = await cli([
        "gen",
        "config",
        "-g",
        "room2-lights",
        "--from-file",
        "device_names.txt",
        "--out",
        "bad",
        ...argv,
      ]);
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
      expect(r.stderr).toContain(text);
    }
    writeFileSync(join(dir, "bad-names.txt"), "ok-1\nNot_OK\n");
    const names = await cli([
      "gen",
      "config",
      "-g",
      "room2-lights",
      "-f",
      "bad-names.txt",
      "--secret-file",
      "prov_secret.txt",
      "--out",
      "bad",
    ]);
    expect(names.stderr).toContain('"Not_OK"');
    expect(existsSync(join(dir, "bad"))).toBe(false);
  });
});

describe("configure and settings", () => {
  const silent = { IOTA_SERVER: "", IOTA_TOKEN: "" };
  const path = () => join(dir, "xdg", "iotactl", "config.json");

  test("writes the config 0600, token kept under its server; the file is used when the environment is silent; the environment wins", async () => {
    writeFileSync(join(dir, "token.txt"), `${svc.adminToken}\n`);
    const r = await cli(["configure", "--server", `${SERVER}/`, "--token-file", "token.txt"], {
      env: silent,
    });
    expect(r.code).toBe(0);
    expect(statSync(path()).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path(), "utf8"))).toEqual({
      current: SERVER,
      servers: { [SERVER]: { token: svc.adminToken } },
    });
    expect(r.stderr).toContain(`current server ${SERVER}; token set; trust: the system roots`);
    expect(r.stderr).not.toContain(svc.adminToken);
    expect((await cli(["list", "groups"], { env: silent })).code).toBe(0);
    expect((await cli(["list", "groups"], { env: { ...silent, IOTA_TOKEN: "wrong" } })).code).toBe(
      5,
    );
    const shown = await cli(["configure"], { env: silent });
    expect(shown.stdout).toMatch(new RegExp(`^server:\\s+${SERVER}  \\(from `, "m"));
    expect(shown.stdout).not.toContain(svc.adminToken);
  });

  test("a second server gets its own entry; the first keeps its token; --server switches back", async () => {
    writeFileSync(join(dir, "token.txt"), `${svc.adminToken}\n`);
    writeFileSync(join(dir, "other.txt"), "other-token\n");
    await cli(["configure", "--server", SERVER, "--token-file", "token.txt"], { env: silent });
    await cli(["configure", "--server", "https://other.test:8440", "--token-file", "other.txt"], {
      env: silent,
    });
    expect(JSON.parse(readFileSync(path(), "utf8"))).toEqual({
      current: "https://other.test:8440",
      servers: {
        [SERVER]: { token: svc.adminToken },
        "https://other.test:8440": { token: "other-token" },
      },
    });
    const back = await cli(["configure", "--server", SERVER], { env: silent });
    expect(back.code).toBe(0);
    expect((await cli(["list", "groups"], { env: silent })).code).toBe(0);
    // A token given without --server belongs to the current server.
    writeFileSync(join(dir, "new.txt"), "rotated-token\n");
    await cli(["configure", "--token-file", "new.txt"], { env: silent });
    const file = JSON.parse(readFileSync(path(), "utf8"));
    expect(file.servers[SERVER].token).toBe("rotated-token");
    expect(file.servers["https://other.test:8440"].token).toBe("other-token");
  });

  test("the old { server, token } file is still read, and rewritten in the new shape", async () => {
    mkdirSync(join(dir, "xdg", "iotactl"), { recursive: true });
    writeFileSync(path(), JSON.stringify({ server: SERVER, token: svc.adminToken }));
    expect((await cli(["list", "groups"], { env: silent })).code).toBe(0);
    writeFileSync(join(dir, "ca.pem"), await caPem());
    expect((await cli(["configure", "--ca-file", "ca.pem"], { env: silent })).code).toBe(0);
    expect(JSON.parse(readFileSync(path(), "utf8"))).toEqual({
      current: SERVER,
      servers: { [SERVER]: { token: svc.adminToken, ca: await caPem() } },
    });
  });

  test("--token takes only stdin; bad URLs and fingerprints are usage errors; nothing is written", async () => {
    expect((await cli(["configure", "--token", svc.adminToken])).code).toBe(2);
    for (const [argv, text] of [
      [["--server", "iota.example.com"], "--server must be a URL"],
      [["--server", "https://user:pw@iota.example.com"], "user name or password"],
      [["--server", "https://iota.example.com/?x=1"], "query"],
      [["--server", SERVER, "--fingerprint", "AB:CD"], "--fingerprint must be the 32-byte"],
      [["--server", SERVER, "--fingerprint", "x".repeat(64)], "--fingerprint must be"],
      [["--server", SERVER, "--fingerprint", "A".repeat(64), "--ca-file", "x"], "not both"],
      [["--server", "http://127.0.0.1:8440", "--ca-file", "x.pem"], "is plain http"],
      [["--server", SERVER, "--ca-file", "missing.pem"], "missing.pem: no such file"],
    ] as const) {
      const r = await cli(["configure", ...argv]);
      expect({ argv, code: r.code }).toEqual({ argv, code: 2 });
      expect(r.stderr).toContain(text);
    }
    expect(existsSync(path())).toBe(false);
    expect((await cli(["configure", "--token", "-"], { stdin: `${svc.adminToken}\n` })).code).toBe(
      0,
    );
  });

  test("without config or environment: https://127.0.0.1:8440, ./.iota/admin-token and ./.iota/server-ca.pem", async () => {
    mkdirSync(join(dir, ".iota"));
    writeFileSync(join(dir, ".iota", "admin-token"), "local-token\n");
    writeFileSync(join(dir, ".iota", "server-ca.pem"), await caPem());
    const r = await cli(["configure"], { env: silent });
    expect(r.stdout).toContain("https://127.0.0.1:8440  (from default)");
    expect(r.stdout).toContain("set  (from .iota/admin-token)");
    expect(r.stdout).toContain("pinned CA, SHA-256 ");
    expect(r.stdout).toContain("(from .iota/server-ca.pem)");
    rmSync(join(dir, ".iota"), { recursive: true });
    const none = await cli(["list", "groups"], { env: silent, files: onlyHere() });
    expect(none.code).toBe(5);
    expect(none.stderr).toContain("no admin token");
  });

  /** The system's files, where only what lies inside the test's folder belongs to the user running iotactl. */
  const onlyHere = (mine = (path: string) => path.startsWith(dir)): Files => ({
    ...systemFiles,
    isMine: mine,
  });

  test("from a folder below the one holding .iota: its token and CA are found, as git finds .git; another user's are not", async () => {
    mkdirSync(join(dir, ".iota"));
    writeFileSync(join(dir, ".iota", "admin-token"), `${svc.adminToken}\n`);
    writeFileSync(join(dir, ".iota", "server-ca.pem"), await caPem());
    const below = join(dir, "work", "batch-7");
    mkdirSync(below, { recursive: true });
    const inSubfolder = { env: silent, files: onlyHere(), dir: below };
    const shown = await cli(["configure"], inSubfolder);
    expect(shown.stdout).toContain("set  (from ../../.iota/admin-token)");
    expect(shown.stdout).toContain("(from ../../.iota/server-ca.pem)");
    // The service itself is https://127.0.0.1:8440 only by default: here the token is what the test can check.
    expect((await cli(["list", "groups"], inSubfolder)).code).toBe(0);

    const othersOnly = onlyHere(() => false);
    const refused = await cli(["configure"], { env: silent, files: othersOnly, dir: below });
    expect(refused.stdout).not.toContain(".iota/admin-token");
    // In the working folder itself the files count as before, whoever owns them.
    const here = await cli(["configure"], { env: silent, files: othersOnly });
    expect(here.stdout).toContain("set  (from .iota/admin-token)");
  });

  test("a token or secret with a character no IoTA credential has is a usage error naming it; nothing is saved or sent", async () => {
    writeFileSync(
      join(dir, "pasted.txt"),
      `${svc.adminToken.slice(0, 6)}\u200b${svc.adminToken.slice(6)}\n`,
    );
    const saved = await cli(["configure", "--server", SERVER, "--token-file", "pasted.txt"], {
      env: silent,
    });
    expect(saved.code).toBe(2);
    expect(saved.stderr).toContain("--token-file pasted.txt holds U+200B at character 7");
    expect(saved.stderr).not.toContain(svc.adminToken.slice(6));
    expect(existsSync(path())).toBe(false);

    const before = svc.log.lines.length;
    const curly = await cli(["list", "groups"], {
      env: { IOTA_TOKEN: `\u201c${svc.adminToken}\u201d` },
    });
    expect(curly.code).toBe(2);
    expect(curly.stderr).toContain("IOTA_TOKEN holds U+201C at character 1");
    expect(svc.log.lines.length).toBe(before);

    writeFileSync(join(dir, "secret.txt"), "abc\u00e9def\n");
    const secret = await cli(["gen", "config", "-g", "g", "--secret-file", "secret.txt", "d1"]);
    expect(secret.code).toBe(2);
    expect(secret.stderr).toContain("holds U+00E9 at character 4");
  });

  test("plain http beyond loopback is refused naming the server and the risk, unless --insecure", async () => {
    const refused = await cli(["list", "groups"], { env: { IOTA_SERVER: "http://iota.test" } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("refusing http://iota.test (from IOTA_SERVER)");
    expect(refused.stderr).toContain("clear text");
    expect(refused.stderr).toContain("--insecure");
    expect(svc.log.lines.filter((l) => l.includes("/v1/groups")).length).toBe(0);
    const allowed = await cli(["--insecure", "list", "groups"], {
      env: { IOTA_SERVER: "http://iota.test" },
    });
    expect(allowed.code).toBe(0);
    for (const loopback of [
      "http://127.0.0.1:9",
      "http://127.8.9.10:9",
      "http://localhost:9",
      "http://[::1]:9",
    ]) {
      const r = await cli(["list", "groups"], { env: { IOTA_SERVER: loopback } });
      expect({ loopback, code: r.code }).toEqual({ loopback, code: 0 });
    }
    expect(
      (await cli(["configure", "--server", "http://10.1.2.3:8440"], { env: silent })).code,
    ).toBe(2);
    expect(
      (await cli(["configure", "--server", "http://10.1.2.3:8440", "--insecure"], { env: silent }))
        .code,
    ).toBe(0);
  });
});

describe("help and version", () => {
  test("--help on every command shows usage, examples and exit codes on stdout", async () => {
    const overview = await cli(["--help"]);
    expect(overview.stdout).toContain(".iota/admin-token in the working folder");
    for (const words of [
      ["configure"],
      ["add", "group"],
      ["add", "device"],
      ["list", "groups"],
      ["list", "devices"],
      ["get", "group"],
      ["get", "device"],
      ["get", "ca"],
      ["get", "crl"],
      ["delete", "group"],
      ["delete", "device"],
      ["revoke", "device"],
      ["reset", "device"],
      ["rotate", "secret"],
      ["provision"],
      ["gen", "config"],
      ["completion"],
    ]) {
      const r = await cli([...words, "--help"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: iotactl ${words.join(" ")}`);
      expect(r.stdout).toContain("Examples:\n  iotactl");
      expect(r.stdout).toContain("6  server unreachable");
      expect(r.stdout).toContain("7  the server's identity could not be verified");
    }
    for (const flag of ["--version", "-v", "-V", "version"])
      expect((await cli([flag])).stdout).toMatch(/^iotactl \d+\.\d+\.\d+\n$/);
    expect((await cli([])).code).toBe(2);
    expect((await cli(["add"])).code).toBe(2);
    expect((await cli(["add", "--help"])).stdout).toContain("add device  create one device");
  });

  test("color only on a terminal without NO_COLOR", async () => {
    expect((await cli(["get", "group", "nope"], { tty: true })).stderr).toContain("\u001b[31m");
    expect(
      (await cli(["get", "group", "nope"], { tty: true, env: { NO_COLOR: "1" } })).stderr,
    ).not.toContain("\u001b[");
    expect((await cli(["get", "group", "nope"])).stderr).not.toContain("\u001b[");
  });
});
