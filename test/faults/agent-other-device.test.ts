/**
 * The compiled iotad started with a config for another device over a data folder a device already used (a config
 * for dev-5 installed where dev-4 ran): it is not ready, /status, /healthz, the log and `iotad check-config` name
 * both devices and the fix, nothing of dev-4's is replaced, and once the folder is cleared it provisions dev-5.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deviceToken } from "../../src/core/token.ts";
import type { ServerProcess } from "../helpers/server-process.ts";
import {
  buildCompiledAgent,
  startServiceWithGroup,
  startCompiledAgent,
  writeAgentConfig,
} from "./agent-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iotad-other-device-"));
const GROUP = "reused";
let bin = "";
let server: ServerProcess;
let secret = "";

beforeAll(async () => {
  bin = buildCompiledAgent(tmp);
  ({ server, secret } = await startServiceWithGroup(tmp, GROUP, ["dev-4", "dev-5"]));
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const dataDir = join(tmp, "data");
const configFor = (device: string) =>
  writeAgentConfig(tmp, device, {
    server: server.url,
    serverCa: server.serverCaPem,
    group: GROUP,
    device,
    token: deviceToken(secret, GROUP, device),
    dataDir,
  });
const record = async (device: string) =>
  (await server.adminCall("GET", `/v1/groups/${GROUP}/devices/${device}`)).json as Record<
    string,
    unknown
  >;

test("a config for dev-5 over dev-4's data folder: an error naming both and the fix, never ready, nothing replaced", async () => {
  const first = startCompiledAgent(bin, configFor("dev-4"));
  const dev4 = await first.until((s) => s.state === "ready", "dev-4's provisioning");
  await first.stop();
  const cert = readFileSync(join(dataDir, "cert.pem"), "utf8");
  const key = readFileSync(join(dataDir, "key.pem"), "utf8");

  const config = configFor("dev-5");
  const check = spawnSync(bin, ["check-config", "--config", config], { encoding: "utf8" });
  expect(check.status).toBe(5);
  expect(check.stdout).toBe("");
  const why = `data folder ${dataDir} holds the certificate of default/${GROUP}/dev-4 (serial ${dev4.serial}), but the config names ${GROUP}/dev-5`;
  expect(check.stderr).toContain(why);
  expect(check.stderr).toContain("clear the data folder");

  const agent = startCompiledAgent(bin, config);
  try {
    const s = await agent.until((x) => x.state === "error", "the refusal");
    expect(String(s.lastError)).toContain(why);
    expect(s.certificateValid).toBe(false);
    expect(s.serial).toBeNull();
    const url = /status endpoint on (\S+)/.exec(agent.log())?.[1] ?? "";
    expect((await fetch(`${url.replace(/\/$/, "")}/healthz`)).status).toBe(503);
    expect(agent.log()).toContain(`iotad error: ${why}`);
    expect(agent.log()).not.toContain("valid until");
    // SIGHUP does not provision over it either.
    agent.proc.kill("SIGHUP");
    await agent.until(
      () => agent.log().includes(`renew-now ignored: ${why}`),
      "the SIGHUP to be ignored",
      20_000,
    );
    expect((await agent.status())?.state).toBe("error");
    expect(agent.log()).not.toContain("provisioning");
    const oneShot = spawnSync(bin, ["provision", "--config", config], { encoding: "utf8" });
    expect(oneShot.status).toBe(5);
    expect(oneShot.stderr).toContain(why);
  } finally {
    await agent.stop();
  }
  expect(readFileSync(join(dataDir, "cert.pem"), "utf8")).toBe(cert);
  expect(readFileSync(join(dataDir, "key.pem"), "utf8")).toBe(key);
  expect(await record("dev-5")).not.toMatchObject({ state: "provisioned" });
  expect(await record("dev-4")).toMatchObject({ state: "provisioned", serial: dev4.serial });

  // The fix the message gives: the folder moved aside, dev-5 provisions.
  renameSync(dataDir, `${dataDir}.dev-4`);
  const fresh = startCompiledAgent(bin, config);
  try {
    const ready = await fresh.until((x) => x.state === "ready", "dev-5's provisioning");
    expect(await record("dev-5")).toMatchObject({ state: "provisioned", serial: ready.serial });
  } finally {
    await fresh.stop();
  }
  expect(spawnSync(bin, ["check-config", "--config", config]).status).toBe(0);
}, 120_000);
