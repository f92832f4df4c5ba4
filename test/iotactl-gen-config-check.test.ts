/** `iotactl gen config` checks the group, its secret and the device names with an in-process iota-server before it writes a file. */

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { secretCheck } from "../src/core/token.ts";
import { noNetwork, runIotactl } from "./helpers/iotactl-in-process.ts";
import { createTestService, type TestService } from "./helpers/test-service.ts";
import { tempDir } from "./iotactl-support.ts";

const SERVER = "https://iota.test";
let svc: TestService;
let dir: string;
/** `METHOD path?query` and body of every request the server got. */
let requests: string[];
let secret: string;

/** Hands requests to the in-process app, noting each one with its body. */
const recordingFetch = (async (input: string | URL | Request, init?: RequestInit) => {
  const url = new URL(String(input));
  requests.push(
    `${init?.method ?? "GET"} ${url.pathname}${url.search} ${String(init?.body ?? "")}`,
  );
  return await svc.app.request(String(input), init);
}) as typeof fetch;

async function cli(
  argv: string[],
  options: { env?: Record<string, string>; fetch?: typeof fetch; tty?: boolean } = {},
) {
  return await runIotactl(argv, {
    dir,
    env: { IOTA_SERVER: SERVER, IOTA_TOKEN: svc.adminToken, ...options.env },
    fetch: options.fetch ?? recordingFetch,
    ...(options.tty === undefined ? {} : { tty: options.tty }),
  });
}

/** `gen config -g GROUP ...names --secret-file prov_secret.txt --out configs ...extra`. */
const gen = (group: string, names: string[], extra: string[] = [], options = {}) =>
  cli(
    ["gen", "config", "-g", group, ...names, "--secret-file", "prov_secret.txt"].concat([
      "--out",
      "configs",
      ...extra,
    ]),
    options,
  );

const written = () => (existsSync(join(dir, "configs")) ? readdirSync(join(dir, "configs")) : []);

async function addGroup(name: string, extra: string[] = []): Promise<string> {
  const r = await cli(["add", "group", name, ...extra]);
  expect(r.code).toBe(0);
  return r.stdout.trim();
}

async function addDevices(group: string, names: string[]): Promise<void> {
  const res = await svc.call("POST", `/v1/groups/${group}/devices`, { names });
  expect(res.status).toBe(200);
}

beforeEach(async () => {
  svc = await createTestService();
  dir = tempDir("iotactl-gencheck-");
  requests = [];
  secret = await addGroup("line1");
  writeFileSync(join(dir, "prov_secret.txt"), `${secret}\n`);
  await addDevices("line1", ["dev-1", "dev-2", "dev-3"]);
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("the server's secret check", () => {
  test("GET /v1/groups/{group} carries the check of the current secret; a rotation changes it", async () => {
    const view = async () =>
      (await (await svc.call("GET", "/v1/groups/line1")).json()) as Record<string, unknown>;
    expect((await view()).secretCheck).toBe(secretCheck(secret, "line1"));
    const rotated = (await cli(["rotate", "secret", "-g", "line1"])).stdout.trim();
    expect((await view()).secretCheck).toBe(secretCheck(rotated, "line1"));
    const listed = (await (await svc.call("GET", "/v1/groups")).json()) as { items: object[] };
    expect(listed.items[0]).not.toHaveProperty("secretCheck");
  });
});

describe("gen config refuses before writing anything", () => {
  test("another group's secret file: exit 5 naming the file and the group; the secret is never sent", async () => {
    const other = await addGroup("line2");
    mkdirSync(join(dir, "other"));
    writeFileSync(join(dir, "other", "prov_secret.txt"), `${other}\n`);
    const argv = ["gen", "config", "-g", "line1", "dev-1", "dev-2"];
    const r = await cli([...argv, "--secret-file", "other/prov_secret.txt", "--out", "configs"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(
      "--secret-file other/prov_secret.txt is not the current provisioning secret of group line1",
    );
    expect(r.stderr).toContain("nothing was written");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    expect(written()).toEqual([]);
    expect(existsSync(join(dir, "configs"))).toBe(false);
    for (const s of [secret, other]) {
      expect(r.stderr + r.stdout).not.toContain(s);
      expect(requests.join("\n")).not.toContain(s);
    }
  });

  test("a secret rotated since: exit 5, from stdin too", async () => {
    await cli(["rotate", "secret", "-g", "line1"]);
    const r = await gen("line1", ["dev-1"]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("is not the current provisioning secret of group line1");
    const stdin = await runIotactl(
      ["gen", "config", "-g", "line1", "dev-1", "--secret", "-", "--out", "configs"],
      {
        dir,
        stdin: secret,
        env: { IOTA_SERVER: SERVER, IOTA_TOKEN: svc.adminToken },
        fetch: recordingFetch,
      },
    );
    expect(stdin.code).toBe(5);
    expect(stdin.stderr).toContain(
      "the secret read from stdin is not the current provisioning secret",
    );
    expect(written()).toEqual([]);
  });

  test("a group that does not exist: exit 3 naming it", async () => {
    const r = await gen("no-such-group", ["dev-1"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("group no-such-group does not exist on https://iota.test");
    expect(r.stderr).toContain("nothing was written");
    expect(written()).toEqual([]);
  });

  test("names never created (enrollment registered): exit 3 with how many and the first few", async () => {
    const one = await gen("line1", ["dev-1", "not-created-99"]);
    expect(one.code).toBe(3);
    expect(one.stderr).toContain(
      '1 of 2 device names do not exist in group line1, which provisions only devices created in advance (enrollment "registered"): not-created-99;',
    );
    expect(written()).toEqual([]);
    const names = ["dev-1", "dev-2", "dev-3", ...Array.from({ length: 8 }, (_, i) => `x-${i}`)];
    writeFileSync(join(dir, "names.txt"), `${names.join("\n")}\n`);
    const many = await gen("line1", ["-f", "names.txt"]);
    expect(many.code).toBe(3);
    expect(many.stderr).toContain(
      '8 of 11 device names do not exist in group line1, which provisions only devices created in advance (enrollment "registered"): x-0, x-1, x-2, x-3, x-4 and 3 more;',
    );
    expect(written()).toEqual([]);
  });

  test("few names in a big group are looked up one by one; missing ones are found that way too", async () => {
    await addDevices(
      "line1",
      Array.from({ length: 2000 }, (_, i) => `bulk-${i}`),
    );
    const r = await gen("line1", ["bulk-7", "gone-1"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("1 of 2 device names do not exist in group line1");
    expect(r.stderr).toContain(": gone-1;");
    expect(requests.filter((q) => q.startsWith("GET /v1/groups/line1/devices?"))).toEqual([]);
    expect(requests.some((q) => q.startsWith("GET /v1/groups/line1/devices/gone-1 "))).toBe(true);
    expect(written()).toEqual([]);
  });

  test('enrollment "any": names the pattern does not match must exist', async () => {
    await cli(["set", "group", "line1", "--enrollment", "any", "--name-pattern", "dev-*"]);
    await addDevices("line1", ["gw-1"]);
    const r = await gen("line1", ["dev-1", "dev-77", "gw-1", "gw-2", "other-1"]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(
      "2 of 5 device names neither match group line1's name pattern dev-* nor exist in it: gw-2, other-1;",
    );
    expect(written()).toEqual([]);
    const ok = await gen("line1", ["dev-1", "dev-77", "gw-1"]);
    expect(ok.code).toBe(0);
    expect(written().sort()).toEqual(["dev-1.json", "dev-77.json", "gw-1.json"]);
  });

  test("--golden checks the group and its secret too", async () => {
    const golden = ["--golden", "--device-from", "file:/etc/machine-id", "--out", "golden.json"];
    const missing = await cli(
      ["gen", "config", "-g", "no-such-group", "--secret-file", "prov_secret.txt"].concat(golden),
    );
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain("group no-such-group does not exist");
    await cli(["rotate", "secret", "-g", "line1"]);
    const stale = await cli(
      ["gen", "config", "-g", "line1", "--secret-file", "prov_secret.txt"].concat(golden),
    );
    expect(stale.code).toBe(5);
    expect(stale.stderr).toContain("is not the current provisioning secret of group line1");
    expect(existsSync(join(dir, "golden.json"))).toBe(false);
  });
});

describe("without a server", () => {
  const unconfigured = { IOTA_SERVER: "", IOTA_TOKEN: "" };

  test("none configured: exit 6 naming --offline; nothing written", async () => {
    const r = await gen("line1", ["dev-1"], [], { env: unconfigured, fetch: noNetwork });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("no IoTA server is configured");
    expect(r.stderr).toContain("give --offline");
    expect(written()).toEqual([]);
  });

  test("unreachable: exit 6 naming --offline; nothing written", async () => {
    const refused = (async () => {
      throw Object.assign(new Error("connect failed"), { code: "ECONNREFUSED" });
    }) as unknown as typeof fetch;
    const r = await gen("line1", ["dev-1"], [], { fetch: refused });
    expect(r.code).toBe(6);
    expect(r.stderr).toContain("cannot reach the IoTA server at https://iota.test");
    expect(r.stderr).toContain("give --offline");
    expect(written()).toEqual([]);
  });

  test("--offline writes without asking any server, and warns what goes unchecked", async () => {
    const r = await gen("line1", ["not-created-99"], ["--offline"], {
      env: unconfigured,
      fetch: noNetwork,
    });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("--offline: nothing was checked with the server");
    expect(written()).toEqual(["not-created-99.json"]);
    const golden = await cli(
      ["gen", "config", "-g", "line1", "--golden", "--device-from", "file:/etc/machine-id"].concat([
        "--secret-file",
        "prov_secret.txt",
        "--out",
        "golden.json",
        "--offline",
      ]),
      { env: unconfigured, fetch: noNetwork },
    );
    expect(golden.code).toBe(0);
    expect(golden.stderr).toContain(
      "--offline: neither the group line1, nor its secret, nor its enrollment was checked",
    );
    expect(existsSync(join(dir, "golden.json"))).toBe(true);
  });
});

describe("what passes the check", () => {
  test("provisioned and revoked devices are warnings; progress shows on a terminal", async () => {
    await cli(["revoke", "device", "-g", "line1", "dev-3"]);
    await svc.call("POST", "/v1/groups/line1/devices", { names: ["dev-4"] });
    const provisioned = await gen("line1", ["dev-2"]);
    expect(provisioned.code).toBe(0);
    const token = JSON.parse((await Bun.file(join(dir, "configs", "dev-2.json")).text()) as string)
      .token as string;
    const p = await cli(["provision", "-g", "line1", "dev-2", "--token", token, "--out", "p"]);
    expect(`${p.code} ${p.code === 0 ? "" : p.stderr}`).toBe("0 ");
    rmSync(join(dir, "configs"), { recursive: true });
    const r = await gen("line1", ["dev-1", "dev-2", "dev-3", "dev-4"], [], { tty: true });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "1 device is already provisioned, so their tokens cannot provision them again",
    );
    expect(r.stderr).toContain(": dev-2");
    expect(r.stderr).toContain(
      "1 device is revoked and cannot provision until an operator resets them: dev-3",
    );
    expect(r.stderr).toContain("100%  4/4");
    expect(written().sort()).toEqual(["dev-1.json", "dev-2.json", "dev-3.json", "dev-4.json"]);
  });

  test("many names are checked against the group's listing, page by page", async () => {
    const names = Array.from({ length: 2500 }, (_, i) => `n-${i}`);
    await addDevices("line1", names);
    writeFileSync(join(dir, "names.txt"), `${names.join("\n")}\n`);
    const r = await gen("line1", ["-f", "names.txt"]);
    expect(r.code).toBe(0);
    expect(
      requests.filter((q) => q.startsWith("GET /v1/groups/line1/devices?limit=1000")),
    ).toHaveLength(3);
    expect(written()).toHaveLength(2500);
  });
});
