/**
 * The compiled iotad against a service restored from a backup (docs/server.md, "What a restore takes back"): a
 * device the backup knows renews; one provisioned after the backup provisions again by itself; one that renewed
 * after it is in `error` naming both refusals, and comes back after `reset` with forgetKey.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deviceToken } from "../../src/core/token.ts";
import {
  buildCompiledAgent,
  startCompiledAgent,
  writeAgentConfig,
  type AgentProcess,
} from "./agent-process.ts";
import { freePort } from "../helpers/free-port.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iotad-restore-"));
let bin = "";
const servers: ServerProcess[] = [];
const agents: AgentProcess[] = [];

beforeAll(() => {
  bin = buildCompiledAgent(tmp);
}, 120_000);

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  for (const server of servers) await server.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test("after a restore each device finds its way back as documented", async () => {
  const port = await freePort();
  const original = join(tmp, "original");
  const a = await startServerProcess({ tls: true, data: original, port });
  servers.push(a);
  // One-hour certificates: only SIGHUP renews, never the schedule.
  const secret = String(
    (await a.admin("POST", "/v1/groups", { name: "fleet", validity: "1h" }, 201))
      .provisioningSecret,
  );
  const agentFor = async (name: string) => {
    await a.admin("POST", "/v1/groups/fleet/devices", { name }, 201);
    const config = writeAgentConfig(tmp, name, {
      server: a.url,
      serverCa: a.serverCaPem,
      group: "fleet",
      device: name,
      token: deviceToken(secret, "fleet", name),
      dataDir: join(tmp, `data-${name}`),
    });
    const agent = startCompiledAgent(bin, config);
    agents.push(agent);
    return agent;
  };
  const kept = await agentFor("kept");
  const renewed = await agentFor("renewed");
  await a.admin("POST", "/v1/groups/fleet/devices", { name: "later" }, 201);
  await kept.until((s) => s.state === "ready", "kept provisioned");
  const before = await renewed.until((s) => s.state === "ready", "renewed provisioned");
  const backup = join(tmp, "backup.db");
  expect(spawnSync("sqlite3", [join(original, "iota.db"), `.backup ${backup}`]).status).toBe(0);
  // After the backup: "later" provisions, "renewed" renews.
  const later = startCompiledAgent(
    bin,
    writeAgentConfig(tmp, "later", {
      server: a.url,
      serverCa: a.serverCaPem,
      group: "fleet",
      device: "later",
      token: deviceToken(secret, "fleet", "later"),
      dataDir: join(tmp, "data-later"),
    }),
  );
  agents.push(later);
  const laterFirst = await later.until((s) => s.state === "ready", "later provisioned");
  renewed.proc.kill("SIGHUP");
  await renewed.until((s) => s.state === "ready" && s.serial !== before.serial, "the renewal");
  await a.stop();
  servers.pop();

  const restored = join(tmp, "restored");
  mkdirSync(restored, { mode: 0o700 });
  copyFileSync(backup, join(restored, "iota.db"));
  copyFileSync(join(original, "master.key"), join(restored, "master.key"));
  copyFileSync(join(original, "admin-token"), join(restored, "admin-token"));
  const b = await startServerProcess({ tls: true, data: restored, port });
  servers.push(b);
  const keptBefore = (await kept.status())?.serial;
  for (const agent of [kept, renewed, later]) agent.proc.kill("SIGHUP");

  const keptAfter = await kept.until(
    (s) => s.state === "ready" && s.serial !== keptBefore,
    "kept renewing",
  );
  expect(keptAfter.lastError).toBeNull();
  const laterBack = await later.until(
    (s) => s.state === "ready" && s.serial !== laterFirst.serial,
    "later provisioning again",
  );
  expect(laterBack.lastError).toBeNull();
  const stuck = await renewed.until((s) => s.state === "error", "renewed refused");
  expect(stuck.lastError).toContain("is not in its database");
  expect(stuck.lastError).toContain("409");
  await b.admin("POST", "/v1/groups/fleet/devices/renewed/reset", { forgetKey: true }, 200);
  renewed.proc.kill("SIGHUP");
  const back = await renewed.until((s) => s.state === "ready", "renewed after the reset");
  expect(back.certificateValid).toBe(true);
}, 240_000);
