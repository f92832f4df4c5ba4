/**
 * iotactl when the disk says no (a full disk, an I/O error): one line naming what could not be written
 * and the cause, a non-zero exit, and nothing lost on the server's side.
 */

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { createTestService, type TestService } from "./helpers/test-service.ts";
import { appFetch, runIotactl } from "./helpers/iotactl-in-process.ts";
import { tempDir } from "./iotactl-support.ts";

const SERVER = "https://iota.test";
let svc: TestService;
let dir: string;

/** Runs iotactl in-process against the in-process service, over a stdout that may fail. */
async function cli(argv: string[], options: { stdoutFails?: string } = {}) {
  return await runIotactl(argv, {
    dir,
    ...options,
    env: { IOTA_SERVER: SERVER, IOTA_TOKEN: svc.adminToken },
    fetch: appFetch(svc.app),
  });
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
