/** iotactl for golden images against an in-process iota-server: group enrollment flags, set group, --normalize, gen config --golden. */

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { AgentConfigSchema } from "../src/core/agent-config.ts";
import { appFetch, runIotactl } from "./helpers/iotactl-in-process.ts";
import {
  createTestService,
  deviceCsr,
  postJson,
  type TestService,
} from "./helpers/test-service.ts";
import { tempDir } from "./iotactl-support.ts";

const SERVER = "https://iota.test";
let svc: TestService;
let dir: string;
/** Every request the in-process server got, as `METHOD path`. */
let requests: string[];

async function cli(argv: string[], stdin = "") {
  return await runIotactl(argv, {
    dir,
    stdin,
    env: { IOTA_SERVER: SERVER, IOTA_TOKEN: svc.adminToken },
    fetch: appFetch(svc.app, requests),
  });
}

async function groupView(name: string): Promise<Record<string, unknown>> {
  return (await (await svc.call("GET", `/v1/groups/${name}`)).json()) as Record<string, unknown>;
}

beforeEach(async () => {
  svc = await createTestService();
  dir = tempDir("iotactl-golden-");
  requests = [];
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("group enrollment flags", () => {
  test("add group --enrollment any --name-pattern --enroll-per-hour; get group shows it", async () => {
    const r = await cli(
      ["add", "group", "line-7", "--enrollment", "any", "--name-pattern", "dev-*"].concat([
        "--enroll-per-hour",
        "50",
      ]),
    );
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect(await groupView("line-7")).toMatchObject({
      enrollment: "any",
      namePattern: "dev-*",
      enrollPerHour: 50,
    });
    const shown = await cli(["get", "group", "line-7"]);
    expect(shown.stdout).toContain(
      "enrollment:     any: creates devices named dev-* on first provisioning, at most 50 per hour",
    );
    expect((await cli(["add", "group", "plain"])).code).toBe(0);
    const listed = (await cli(["list", "groups"])).stdout;
    expect(listed).toMatch(/^line-7\s+0\s+30d\s+any dev-\*\s+\d{4}-/m);
    expect(listed).toMatch(/^plain\s+0\s+30d\s+registered\s+\d{4}-/m);
    expect((await cli(["get", "group", "plain"])).stdout).toContain("enrollment:     registered");
  });

  test.each([
    [["--name-pattern", "dev-*"], "--name-pattern applies only to a group with --enrollment any"],
    [["--enrollment", "any"], "--name-pattern is required with --enrollment any"],
    [["--enrollment", "open"], "--enrollment must be registered or any"],
    [["--enrollment", "any", "--name-pattern", "Dev_*"], '--name-pattern "Dev_*" contains "D"'],
    [
      ["--enrollment", "any", "--name-pattern", "d-*", "--enroll-per-hour", "0"],
      "--enroll-per-hour must be",
    ],
  ])("add group %j is a usage error before any request: %p", async (flags, message) => {
    const r = await cli(["add", "group", "g", ...flags]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(requests).toEqual([]);
  });

  test("set group changes the enrollment and prints the group; checked before the change is sent", async () => {
    await cli(["add", "group", "line-7"]);
    let r = await cli(["set", "group", "line-7", "--enrollment", "any", "--name-pattern", "dev-*"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("enrollment:     any: creates devices named dev-*");
    r = await cli(["set", "group", "line-7", "--name-pattern", "gw-*", "--json"]);
    expect(JSON.parse(r.stdout)).toMatchObject({ enrollment: "any", namePattern: "gw-*" });
    r = await cli(["set", "group", "line-7", "--enrollment", "registered"]);
    expect(r.stdout).toContain("enrollment:     registered");
    requests = [];
    r = await cli(["set", "group", "line-7", "--name-pattern", "x-*"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--name-pattern applies only to a group with --enrollment any");
    expect(requests).toEqual(["GET /v1/groups/line-7"]);
    r = await cli(["set", "group", "line-7"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("give at least one of --enrollment");
    expect((await cli(["set", "group", "nope", "--enrollment", "registered"])).code).toBe(3);
    expect(await groupView("line-7")).toMatchObject({ enrollment: "registered" });
  });
});

describe("add device --normalize", () => {
  test("hardware values become the names iotad gives them; values that cannot are reported, exit 1", async () => {
    await cli(["add", "group", "line-7"]);
    writeFileSync(
      join(dir, "macs.txt"),
      "AA:BB:CC:00:11:22\naa-bb-cc-00-11-33\nTo Be Filled By O.E.M.\n00:00:00:00:00:00\n",
    );
    const r = await cli([
      "add",
      "device",
      "-g",
      "line-7",
      "--from-file",
      "macs.txt",
      "--normalize",
      "--prefix",
      "dev-",
    ]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe("created: 2\nalready existed: 0\ninvalid: 2\n");
    expect(r.stderr).toContain('invalid name "To Be Filled By O.E.M.": the value');
    expect(r.stderr).toContain("placeholder");
    const page = (await (await svc.call("GET", "/v1/groups/line-7/devices")).json()) as {
      items: { name: string }[];
    };
    expect(page.items.map((d) => d.name)).toEqual([
      "dev-aa-bb-cc-00-11-22",
      "dev-aa-bb-cc-00-11-33",
    ]);
    const again = await cli(["add", "device", "-g", "line-7", "--normalize", "SN 0042/B"]);
    expect([again.code, again.stdout]).toEqual([0, "created: 1\nalready existed: 0\ninvalid: 0\n"]);
    expect((await svc.call("GET", "/v1/groups/line-7/devices/sn-0042-b")).status).toBe(200);
  });

  test("two values that make one name are named: two boards would claim one device", async () => {
    await cli(["add", "group", "line-7"]);
    const r = await cli([
      "add",
      "device",
      "-g",
      "line-7",
      "--normalize",
      "SN000001",
      "sn000001",
      "SN000002",
    ]);
    expect([r.code, r.stdout]).toEqual([0, "created: 2\nalready existed: 0\ninvalid: 0\n"]);
    expect(r.stderr).toContain(
      'the values "SN000001" and "sn000001" both make the name sn000001: two boards with them would claim one device',
    );
  });

  test("usage errors: with --count, a bad prefix, nothing to read", async () => {
    await cli(["add", "group", "line-7"]);
    for (const [flags, message] of [
      [["--normalize", "--count", "3", "--prefix", "d-"], "--normalize goes with --from-file"],
      [["--normalize", "--prefix", "Dev", "x"], '--prefix "Dev" must be'],
      [["--normalize"], "--normalize needs --from-file FILE or hardware values"],
    ] as const) {
      const r = await cli(["add", "device", "-g", "line-7", ...flags]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain(message);
    }
  });
});

describe("gen config --golden", () => {
  let secret: string;
  const golden = (group: string, extra: string[] = []) =>
    cli(
      ["gen", "config", "-g", group, "--golden", "--device-from", "file:/etc/machine-id"].concat([
        "--prefix",
        "dev-",
        "--secret-file",
        "prov_secret.txt",
        "--out",
        "golden.json",
        ...extra,
      ]),
    );

  beforeEach(async () => {
    secret = (await cli(["add", "group", "line-7"])).stdout.trim();
    writeFileSync(join(dir, "prov_secret.txt"), `${secret}\n`);
  });

  test("writes one 0600 config the agent's schema accepts: a device source and the group secret", async () => {
    const ca = (await cli(["get", "ca"])).stdout;
    writeFileSync(join(dir, "server-ca.pem"), ca);
    const r = await golden("line-7", [
      "--server-ca",
      "server-ca.pem",
      "--mqtt-url",
      "mqtts://b:8883",
    ]);
    expect(r.code).toBe(0);
    const file = join(dir, "golden.json");
    expect(r.stdout).toBe(`${file}\n`);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const config = v.parse(AgentConfigSchema, JSON.parse(readFileSync(file, "utf8")));
    expect(config).toMatchObject({
      server: SERVER,
      serverCa: ca,
      group: "line-7",
      device: { from: "file:/etc/machine-id", prefix: "dev-" },
      secret,
      mqtt: { url: "mqtts://b:8883" },
    });
    expect(config.token).toBeUndefined();
    expect(r.stderr).not.toContain(secret);
  });

  test("warns what a leaked image exposes, as the group's enrollment limits it", async () => {
    const registered = await golden("line-7");
    expect(registered.stderr).toContain(
      "holds the provisioning secret of group line-7, not a per-device token",
    );
    expect(registered.stderr).toContain(
      'group line-7 is "registered": a copy can provision only devices created in advance',
    );
    expect(registered.stderr).toContain("--normalize --prefix dev-");
    expect(registered.stderr).toContain("possible squatting");
    await cli(["set", "group", "line-7", "--enrollment", "any", "--name-pattern", "gw-*"]);
    const any = await golden("line-7");
    expect(any.code).toBe(0);
    expect(any.stderr).toContain(
      'group line-7 enrolls "any": a copy can also CREATE new devices named gw-* (up to 1000 per hour)',
    );
    expect(any.stderr).toContain(
      'names made with prefix "dev-" do not match the group\'s pattern gw-*',
    );
  });

  test.each([
    [["--device-from", "command:cat /sys/serial"], "not supported"],
    [["--device-from", "dmi:bios_version"], "dmi: takes one of product_serial"],
    [["--prefix", "Dev-"], '--prefix "Dev-" must be'],
    [["--out", "configs"], "--out names the one file --golden writes"],
    [["dev-1"], "give --device-from SOURCE, not device names"],
  ])("%j is a usage error; nothing is written", async (extra, message) => {
    const args = [
      "gen",
      "config",
      "-g",
      "line-7",
      "--golden",
      "--device-from",
      "file:/etc/machine-id",
    ];
    const rest = ["--secret-file", "prov_secret.txt", "--out", "golden.json"];
    const r = await cli([...args, ...rest, ...extra]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
    expect(existsSync(join(dir, "golden.json"))).toBe(false);
  });

  test("--device-from and --prefix need --golden; --golden needs --device-from", async () => {
    const plain = ["gen", "config", "-g", "line-7", "d-1", "--secret-file", "prov_secret.txt"];
    expect((await cli([...plain, "--prefix", "dev-"])).stderr).toContain(
      "--prefix goes with --golden",
    );
    const none = await cli([
      "gen",
      "config",
      "-g",
      "line-7",
      "--golden",
      "--secret-file",
      "prov_secret.txt",
      "--out",
      "g.json",
    ]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("--device-from is required with --golden");
  });
});

describe("reset device --forget-key", () => {
  test("without it a new key needs the old key's proof; with it the secret alone provisions again", async () => {
    const secret = (await cli(["add", "group", "line-7"])).stdout.trim();
    await cli(["add", "device", "-g", "line-7", "dev-1"]);
    const provision = async () => {
      const { csr } = await deviceCsr("dev-1");
      return await postJson(svc, "/v1/provision", {
        group: "line-7",
        device: "dev-1",
        csr,
        secret,
      });
    };
    expect((await provision()).status).toBe(201);
    expect((await cli(["reset", "device", "-g", "line-7", "dev-1"])).code).toBe(0);
    expect((await provision()).status).toBe(401);
    expect((await cli(["reset", "device", "-g", "line-7", "dev-1", "--forget-key"])).code).toBe(0);
    expect((await provision()).status).toBe(201);
  });
});
