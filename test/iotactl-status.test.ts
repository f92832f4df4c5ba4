/** `iotactl status` and the filters of `iotactl list devices`, against an in-process iota-server. */

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import {
  createDevices,
  createGroup,
  createTestService,
  provisionDevice,
  type TestService,
} from "./helpers/test-service.ts";
import { appFetch, runIotactl } from "./helpers/iotactl-in-process.ts";
import { tempDir } from "./iotactl-support.ts";

let svc: TestService;
let dir: string;

/** Runs iotactl in-process; fetch goes to the in-process app. */
async function cli(argv: string[]) {
  return await runIotactl(argv, {
    dir,
    env: { IOTA_SERVER: "https://iota.test", IOTA_TOKEN: svc.adminToken },
    fetch: appFetch(svc.app),
  });
}

beforeEach(async () => {
  svc = await createTestService();
  dir = tempDir("iotactl-status-");
  const lamps = await createGroup(svc, "lamps");
  await createGroup(svc, "fans");
  await createDevices(svc, "lamps", ["l-1", "l-2", "l-3", "l-4"]);
  await createDevices(svc, "fans", ["f-1"]);
  for (const d of ["l-1", "l-2", "l-3"]) await provisionDevice(svc, "lamps", d, lamps);
  await svc.call("POST", "/v1/groups/lamps/devices/l-3/revoke");
  await svc.store.applyReadiness(
    [
      ["l-1", true],
      ["l-2", false],
    ].map(([device, online]) => ({
      tenant: "default",
      group: "lamps",
      device: String(device),
      online: online === true,
      at: svc.clock.now,
    })),
  );
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe("iotactl status", () => {
  test("--json has the summary's fields; -g narrows it to one group", async () => {
    const all = await cli(["status", "--json"]);
    expect(all.code).toBe(0);
    const s = JSON.parse(all.stdout);
    expect(s.devices).toEqual({ total: 5, created: 2, provisioned: 2, revoked: 1 });
    expect([s.online, s.offline, s.expiringWithin24h, s.overdueRenewals]).toEqual([1, 1, 0, 0]);
    expect(s.groups.map((g: { name: string }) => g.name)).toEqual(["fans", "lamps"]);
    const lamps = JSON.parse((await cli(["status", "-g", "lamps", "--json"])).stdout);
    expect(lamps.devices.total).toBe(4);
    expect(lamps.groups).toBeUndefined();
  });

  test("for people: the totals, then one line per group, every page of groups", async () => {
    for (let i = 0; i < 105; i++) await createGroup(svc, `extra-${i}`);
    const r = await cli(["status"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^devices:\s+5 \(created 2, provisioned 2, revoked 1\)$/m);
    expect(r.stdout).toMatch(/^online:\s+1$/m);
    expect(r.stdout).toMatch(/^offline:\s+1$/m);
    expect(r.stdout).toMatch(/^lamps\s+4\s+1\s+1\s+0\s+0$/m);
    expect(r.stdout.split("\n").filter((l) => l.startsWith("extra-")).length).toBe(105);
  });

  test("a wrong or unknown group: exit 2 before any request, or the server's 404 (exit 3)", async () => {
    const bad = await cli(["status", "-g", "Lamps"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('group name "Lamps"');
    const missing = await cli(["status", "-g", "nope"]);
    expect(missing.code).toBe(3);
    expect(missing.stderr).toContain('No group named "nope"');
  });
});

describe("iotactl list devices filters", () => {
  const names = async (...flags: string[]) => {
    const r = await cli(["list", "devices", "-g", "lamps", "--json", ...flags]);
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout).map((d: { name: string }) => d.name);
  };

  test("--state, --online, --offline, --overdue, combined", async () => {
    expect(await names()).toEqual(["l-1", "l-2", "l-3", "l-4"]);
    expect(await names("--state", "created")).toEqual(["l-4"]);
    expect(await names("--online")).toEqual(["l-1"]);
    expect(await names("--offline")).toEqual(["l-2"]);
    expect(await names("--state", "revoked", "--offline")).toEqual([]);
    expect(await names("--overdue")).toEqual([]);
    svc.clock.advance(40 * 86_400_000);
    expect((await names("--overdue")).sort()).toEqual(["l-1", "l-2"]);
  });

  test("the table shows readiness and the planned renewal", async () => {
    const r = await cli(["list", "devices", "-g", "lamps"]);
    expect(r.stdout.split("\n")[0]).toMatch(
      /^NAME\s+STATE\s+NOT AFTER\s+SERIAL\s+ONLINE\s+RENEW AT$/,
    );
    expect(r.stdout).toMatch(/^l-1\s+provisioned\s+\S+\s+[0-9a-f]{32}\s+yes\s+\d{4}-\d\d-\d\dT/m);
    expect(r.stdout).toMatch(/^l-4\s+created\s+-\s+-\s+-\s+-$/m);
  });

  test("wrong filters are usage errors (exit 2) naming the flag", async () => {
    const both = await cli(["list", "devices", "-g", "lamps", "--online", "--offline"]);
    expect([both.code, both.stderr]).toEqual([
      2,
      expect.stringContaining("--online and --offline"),
    ]);
    const state = await cli(["list", "devices", "-g", "lamps", "--state", "lost"]);
    expect([state.code, state.stderr]).toEqual([
      2,
      expect.stringContaining("--state must be one of"),
    ]);
  });
});
