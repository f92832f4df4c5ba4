/**
 * The compiled iotad against a real iota-server with its embedded MQTT broker: once an operator revokes, resets or
 * deletes the device, the broker's refusal makes iotad ask the service at once (no SIGHUP, no waiting for the
 * renewal days away), and the errors of a state that is over no longer show once it is ready again.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deviceToken } from "../../src/core/token.ts";
import { type AgentProcess, buildCompiledAgent, startCompiledAgent } from "./agent-process.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

/** Far shorter than the next planned renewal (19-20 days away: a 30-day certificate, its first renewal not spread). */
const PROMPTLY_MS = 30_000;
const tmp = mkdtempSync(join(tmpdir(), "iotad-broker-refused-"));
let bin = "";
let server: ServerProcess;
let secret = "";

beforeAll(async () => {
  bin = buildCompiledAgent(tmp);
  server = await startServerProcess({
    tls: true,
    data: join(tmp, "server"),
    args: ["--mqtt-listen", "127.0.0.1:0"],
  });
  const group = await server.admin("POST", "/v1/groups", { name: "line", validity: "30d" }, 201);
  secret = String(group.provisioningSecret);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Creates `name`, starts its iotad (MQTT to the embedded broker) and waits until it is ready and announced. */
async function readyDevice(name: string): Promise<{ agent: AgentProcess; serial: string }> {
  await server.admin("POST", "/v1/groups/line/devices", { name }, 201);
  const config = join(tmp, `${name}.json`);
  writeFileSync(
    config,
    JSON.stringify({
      server: server.url,
      serverCa: server.serverCaPem,
      group: "line",
      device: name,
      token: deviceToken(secret, "line", name),
      dataDir: join(tmp, `data-${name}`),
      statusListen: "127.0.0.1:0",
      renewal: { spreadFirst: false },
      // Hint: the embedded broker's certificate chains to the server CA, which is the MQTT trust by default.
      mqtt: { url: String(server.brokerUrl) },
      afterRenew: `echo "$IOTAD_SERIAL" >> ${JSON.stringify(join(tmp, `hook-${name}.log`))}`,
    }),
  );
  const agent = startCompiledAgent(bin, config);
  const s = await agent.until(
    (x) => x.state === "ready" && (x.mqtt as { state: string }).state === "connected",
    "provisioning and the MQTT announcement",
  );
  expect(Date.parse(String(s.nextRenewal)) - Date.now()).toBeGreaterThan(10 * 86_400_000);
  return { agent, serial: String(s.serial) };
}

async function healthz(agent: AgentProcess): Promise<number> {
  const url = /status endpoint on (http:\/\/\S+)/.exec(agent.log())?.[1] ?? "";
  return (await fetch(`${url.replace(/\/$/, "")}/healthz`)).status;
}

test("revoked: the broker's refusal makes iotad ask the service at once: error and 503 in seconds; after a reset it provisions again by itself, with no stale errors", async () => {
  const { agent, serial } = await readyDevice("revoked-1");
  try {
    await server.admin("POST", "/v1/groups/line/devices/revoked-1/revoke", undefined, 200);
    const revoked = await agent.until(
      (s) => s.state === "error",
      "the error state after the broker refused",
      PROMPTLY_MS,
    );
    expect(revoked.lastError).toContain("the service refused renewal");
    expect(revoked.lastError).toContain("revoked");
    expect(revoked.certificateValid).toBe(false);
    expect(await healthz(agent)).toBe(503);
    expect(agent.log()).toContain(`the MQTT broker refused certificate ${serial}`);
    expect(agent.log()).not.toContain("SIGHUP");
    // What follows is the slow provisioning retry (30 s to 1 min, doubling up to 1 hour), nothing faster.
    expect(Date.parse(String(revoked.nextRenewal)) - Date.now()).toBeGreaterThan(20_000);

    await server.admin("POST", "/v1/groups/line/devices/revoked-1/reset", undefined, 200);
    const back = await agent.until(
      (s) => s.state === "ready" && (s.mqtt as { state: string }).state === "connected",
      "provisioning after the reset, on the slow retry",
      90_000,
    );
    expect(back.serial).not.toBe(serial);
    expect(back.certificateValid).toBe(true);
    expect(await healthz(agent)).toBe(200);
    expect(back.lastError).toBeNull();
    expect(back.lastErrorAt).toBeNull();
    expect((back.mqtt as { lastError: string | null }).lastError).toBeNull();
  } finally {
    await agent.stop();
  }
}, 180_000);

test("reset while ready: the broker's refusal leads to provisioning again at once, and ready shows no stale errors", async () => {
  const { agent, serial } = await readyDevice("reset-1");
  try {
    await server.admin("POST", "/v1/groups/line/devices/reset-1/reset", undefined, 200);
    const back = await agent.until(
      (s) =>
        s.state === "ready" &&
        s.serial !== serial &&
        (s.mqtt as { state: string }).state === "connected",
      "provisioning again after the broker refused",
      PROMPTLY_MS,
    );
    expect(agent.log()).toContain(`the MQTT broker refused certificate ${serial}`);
    expect(agent.log()).toContain("the service refused renewal");
    expect(back.lastError).toBeNull();
    expect((back.mqtt as { lastError: string | null }).lastError).toBeNull();
    expect(await healthz(agent)).toBe(200);
    const record = await server.admin("GET", "/v1/groups/line/devices/reset-1", undefined, 200);
    expect(record).toMatchObject({ serial: back.serial, state: "provisioned" });
    // The new certificate replaced one in use, as a renewal does: afterRenew ran for it (not for the first).
    const hookLog = join(tmp, "hook-reset-1.log");
    await agent.until(() => existsSync(hookLog), "the afterRenew hook", PROMPTLY_MS);
    expect(readFileSync(hookLog, "utf8")).toBe(`${String(back.serial)}\n`);
  } finally {
    await agent.stop();
  }
}, 120_000);

test("deleted: the broker's refusal brings the service's answer (unknown name) within seconds", async () => {
  const { agent } = await readyDevice("deleted-1");
  try {
    await server.admin("DELETE", "/v1/groups/line/devices/deleted-1", undefined, 204);
    const gone = await agent.until((s) => s.state === "error", "the error state", PROMPTLY_MS);
    expect(gone.lastError).toContain("the service refused renewal");
    expect(gone.lastError).toContain('answered 404: No device named "deleted-1"');
    expect(gone.lastError).toContain("an operator must create it (iotactl add device)");
    expect(gone.lastError).not.toContain("reset");
    expect(await healthz(agent)).toBe(503);
  } finally {
    await agent.stop();
  }
}, 120_000);
