/** The compiled iotad when the service refuses it for good (revoked) and when its cert.pem is damaged: it says so, and comes back by itself once it may. */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deviceToken } from "../../src/core/token.ts";
import {
  buildCompiledAgent,
  startServiceWithGroup,
  startCompiledAgent,
  writeAgentConfig,
} from "./agent-process.ts";
import type { ServerProcess } from "../helpers/server-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iotad-refused-"));
let bin = "";
let server: ServerProcess;
let secret = "";

beforeAll(async () => {
  bin = buildCompiledAgent(tmp);
  // A long validity: only SIGHUP renews, never the schedule.
  ({ server, secret } = await startServiceWithGroup(tmp, "refused"));
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

async function device(name: string): Promise<{ config: string; dir: string }> {
  expect((await server.adminCall("POST", "/v1/groups/refused/devices", { name })).status).toBe(201);
  const dir = join(tmp, `data-${name}`);
  return {
    dir,
    config: writeAgentConfig(tmp, name, {
      server: server.url,
      serverCa: server.serverCaPem,
      group: "refused",
      device: name,
      token: deviceToken(secret, "refused", name),
      dataDir: dir,
    }),
  };
}

test("revoked: renewal refused, a clear error state, then after an operator's reset the device comes back by itself", async () => {
  const { config } = await device("revoked-1");
  const agent = startCompiledAgent(bin, config);
  try {
    const first = await agent.until((s) => s.state === "ready", "provisioning");
    expect(
      (await server.adminCall("POST", "/v1/groups/refused/devices/revoked-1/revoke")).status,
    ).toBe(200);
    agent.proc.kill("SIGHUP");
    const refused = await agent.until(
      (s) => s.state === "error" && s.nextRenewal !== null,
      "the refusal and the planned retry",
    );
    expect(refused.lastError).toContain("the service refused renewal");
    expect(refused.lastError).toContain("revoked");
    expect(refused.lastError).toContain("must be reset by an operator");
    expect(refused.certificateValid).toBe(false);
    expect(agent.log()).toContain("the service refused renewal");
    // The next attempt is a slow provisioning retry, 30-60 s away, not a network-error loop.
    const retryIn = Date.parse(String(refused.nextRenewal)) - Date.now();
    expect(retryIn).toBeGreaterThan(20_000);
    expect(
      (await server.adminCall("POST", "/v1/groups/refused/devices/revoked-1/reset")).status,
    ).toBe(200);
    const back = await agent.until(
      (s) => s.state === "ready",
      "provisioning after the reset",
      90_000,
    );
    expect(back.serial).not.toBe(first.serial);
    expect(back.certificateValid).toBe(true);
    const record = (await server.adminCall("GET", "/v1/groups/refused/devices/revoked-1")).json as {
      serial: string;
      state: string;
    };
    expect(record).toMatchObject({ serial: back.serial, state: "provisioned" });
  } finally {
    await agent.stop();
  }
}, 150_000);

test("a truncated cert.pem: reported, then fetched again with the same key, and no longer shown as an error", async () => {
  const { config, dir } = await device("damaged-1");
  const first = startCompiledAgent(bin, config);
  const ready = await first.until((s) => s.state === "ready", "provisioning");
  await first.stop();
  const cert = readFileSync(join(dir, "cert.pem"), "utf8");
  const key = readFileSync(join(dir, "key.pem"), "utf8");
  writeFileSync(join(dir, "cert.pem"), cert.slice(0, 200));
  const again = startCompiledAgent(bin, config);
  try {
    const s = await again.until((x) => x.state === "ready", "recovery");
    expect(s.serial).toBe(ready.serial);
    // The damage is reported in the log; once the certificate is fetched again it is over, and lastError says so.
    expect(again.log()).toContain("cert.pem is not a PEM certificate");
    expect(s.lastError).toBeNull();
    expect(readFileSync(join(dir, "cert.pem"), "utf8")).toBe(cert);
    expect(readFileSync(join(dir, "key.pem"), "utf8")).toBe(key);
  } finally {
    await again.stop();
  }
}, 90_000);

test("garbage in cert.pem and a key the service no longer knows: provisioning is refused (409) and the device says it must be reset", async () => {
  const { config, dir } = await device("damaged-2");
  const first = startCompiledAgent(bin, config);
  await first.until((s) => s.state === "ready", "provisioning");
  const oldKey = readFileSync(join(dir, "key.pem"), "utf8");
  first.proc.kill("SIGHUP");
  await first.until((s) => s.renewals === 1, "a renewal");
  await first.stop();
  writeFileSync(join(dir, "cert.pem"), "\u0000garbage\n");
  writeFileSync(join(dir, "key.pem"), oldKey);
  const again = startCompiledAgent(bin, config);
  try {
    const s = await again.until(
      (x) => x.state === "error" && String(x.lastError).includes("refused"),
      "the refusal",
    );
    expect(String(s.lastError)).toContain("409");
    expect(String(s.lastError)).toContain("this name was provisioned by another key");
    expect(String(s.lastError)).toContain(
      "an operator must check which board holds it and reset it",
    );
    expect(again.log()).toContain("cert.pem is not a PEM certificate");
    expect(s.certificateValid).toBe(false);
  } finally {
    await again.stop();
  }
}, 90_000);
