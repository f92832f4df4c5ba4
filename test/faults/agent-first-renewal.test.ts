/**
 * Short certificates (1 and 2 minutes, backdated 6 and 12 s for slow clocks): the first renewal after provisioning
 * is spread from the moment of issue, so neither the service's planned renewal nor the compiled iotad's falls due
 * as soon as the certificate arrives.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCsrPem, generateDeviceKey } from "../../src/core/csr.ts";
import { deviceToken } from "../../src/core/token.ts";
import { runOk, tool } from "../helpers/mosquitto-process.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";
import { buildCompiledAgent, startCompiledAgent, writeAgentConfig } from "./agent-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iotad-first-renewal-"));
let bin = "";
let server: ServerProcess;
const secrets: Record<string, string> = {};

/** The dates openssl reads from a PEM certificate, in epoch ms. */
function opensslDates(pem: string): { notBefore: number; notAfter: number } {
  const out = runOk([tool("openssl"), "x509", "-noout", "-startdate", "-enddate", "-in", pem]);
  const date = (field: string) => Date.parse(new RegExp(`${field}=(.+)`).exec(out)?.[1] ?? "");
  return { notBefore: date("notBefore"), notAfter: date("notAfter") };
}

beforeAll(async () => {
  bin = buildCompiledAgent(tmp);
  server = await startServerProcess({ tls: true, data: join(tmp, "server") });
  for (const [group, validity] of [
    ["two-minutes", "2m"],
    ["one-minute", "1m"],
  ] as const) {
    const created = await server.admin("POST", "/v1/groups", { name: group, validity }, 201);
    secrets[group] = String(created.provisioningSecret);
  }
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

test("40 devices provisioned with 2-minute certificates: every planned first renewal is at least 1/40 of the lifetime after the issue", async () => {
  const names = Array.from({ length: 40 }, (_, i) => `dev-${i}`);
  await server.admin("POST", "/v1/groups/two-minutes/devices", { names }, 200);
  const key = await generateDeviceKey();
  for (const name of names) {
    const res = await server.fetch("/v1/provision", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        group: "two-minutes",
        device: name,
        csr: await createCsrPem(key, name),
        token: deviceToken(secrets["two-minutes"] ?? "", "two-minutes", name),
      }),
    });
    expect(res.status).toBe(201);
    const issued = (await res.json()) as { notBefore: string; notAfter: string; renewAt: string };
    const notBefore = Date.parse(issued.notBefore);
    const notAfter = Date.parse(issued.notAfter);
    // The profile: issued at notAfter - 2 min, notBefore 12 s before that.
    expect(notAfter - notBefore).toBe(132_000);
    const issue = notAfter - 120_000;
    const renewAt = Date.parse(issued.renewAt);
    expect(renewAt - issue).toBeGreaterThanOrEqual(132_000 / 40 - 1);
    expect(renewAt - notBefore).toBeLessThanOrEqual(Math.ceil(132_000 * (2 / 3 + 1 / 40)));
  }
});

test("the compiled iotad with a 1-minute certificate: plans its first renewal where the service does, after the issue, and renews no earlier", async () => {
  await server.admin("POST", "/v1/groups/one-minute/devices", { name: "agent" }, 201);
  const dataDir = join(tmp, "data-agent");
  const config = writeAgentConfig(tmp, "agent", {
    server: server.url,
    serverCa: server.serverCaPem,
    group: "one-minute",
    device: "agent",
    token: deviceToken(secrets["one-minute"] ?? "", "one-minute", "agent"),
    dataDir,
  });
  const agent = startCompiledAgent(bin, config);
  try {
    const ready = await agent.until((s) => s.state === "ready", "provisioning");
    // The status agrees with what openssl reads from the certificate the agent stored.
    const dates = opensslDates(join(dataDir, "cert.pem"));
    expect(new Date(dates.notBefore).toISOString()).toBe(String(ready.notBefore));
    expect(new Date(dates.notAfter).toISOString()).toBe(String(ready.notAfter));
    expect(dates.notAfter - dates.notBefore).toBe(66_000);
    const issue = dates.notAfter - 60_000;
    const planned = Date.parse(String(ready.nextRenewal));
    expect(planned - issue).toBeGreaterThanOrEqual(66_000 / 40 - 1);
    const record = await server.admin("GET", "/v1/groups/one-minute/devices/agent", undefined, 200);
    expect(record.serial).toBe(ready.serial);
    expect(Date.parse(String(record.renewAt))).toBe(planned);

    const renewed = await agent.until((s) => s.renewals >= 1, "the first renewal", 60_000);
    expect(renewed.serial).not.toBe(ready.serial);
    const started = /^(\S+) iotad info: renewing certificate /m.exec(agent.log())?.[1];
    expect(Date.parse(String(started))).toBeGreaterThanOrEqual(planned);
  } finally {
    await agent.stop();
  }
}, 90_000);
