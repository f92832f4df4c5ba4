/** The compiled iotad with the service unreachable through its whole refresh window until after expiry: within the renew grace it renews, past it it says it must be reset. */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_BACKOFF } from "../../src/core/renewal.ts";
import { deviceToken } from "../../src/core/token.ts";
import {
  buildCompiledAgent,
  startCompiledAgent,
  writeAgentConfig,
  type AgentProcess,
} from "./agent-process.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iotad-outage-"));
const data = join(tmp, "server");
let bin = "";
let server: ServerProcess;
const agents: AgentProcess[] = [];

beforeAll(async () => {
  bin = buildCompiledAgent(tmp);
  server = await startServerProcess({ tls: true, data: data });
}, 120_000);

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** A group with 1-minute certificates and the given renew grace, one device, and its agent running until ready. */
async function deviceIn(group: string, renewGrace: string): Promise<AgentProcess> {
  const secret = (
    (await server.adminCall("POST", "/v1/groups", { name: group, validity: "1m", renewGrace }))
      .json as { provisioningSecret: string }
  ).provisioningSecret;
  expect(
    (await server.adminCall("POST", `/v1/groups/${group}/devices`, { name: "dev" })).status,
  ).toBe(201);
  const config = writeAgentConfig(tmp, group, {
    server: server.url,
    serverCa: server.serverCaPem,
    group,
    device: "dev",
    token: deviceToken(secret, group, "dev"),
    dataDir: join(tmp, `data-${group}`),
  });
  const agent = startCompiledAgent(bin, config);
  agents.push(agent);
  await agent.until((s) => s.state === "ready", `${group}: provisioning`);
  return agent;
}

// One outage for both devices: they differ only in their group's renew grace.
test("service down from provisioning until after expiry: expired with capped backoff; within the grace it renews, past it a clear must-reset state", async () => {
  // The grace outlasts any retry the capped backoff can plan during this outage (attempts ~5 s, 10 s, ... up to a few minutes).
  const inGrace = await deviceIn("in-grace", "15m");
  const pastGrace = await deviceIn("past-grace", "0");
  const held = await inGrace.until(() => true, "status");
  const port = Number(new URL(server.url).port);
  await server.stop();

  const notAfter = Math.max(
    Date.parse(String(held.notAfter)),
    Date.parse(String((await pastGrace.until(() => true, "status")).notAfter)),
  );
  const expired = await inGrace.until(
    (s) => s.state === "expired",
    "expiry while the service is down",
    120_000,
  );
  expect(expired.certificateValid).toBe(false);
  expect(expired.serial).toBe(held.serial);
  expect(String(expired.lastError)).toContain("unreachable");
  expect(
    await (
      await fetch(
        String(/status endpoint on (http:\/\/\S+)/.exec(inGrace.log())?.[1]).replace(/\/$/, "") +
          "/healthz",
      )
    ).status,
  ).toBe(503);
  const failures = expired.renewalFailures;
  expect(failures).toBeGreaterThanOrEqual(2);
  // Still retrying after expiry, and capped: the next attempt is planned no further than the backoff's ceiling.
  const later = await inGrace.until(() => true, "status");
  expect(later.state).toBe("expired");
  expect(later.nextRenewal).not.toBeNull();
  expect(
    Date.parse(String(later.nextRenewal)) - Date.parse(String(later.lastErrorAt)),
  ).toBeLessThanOrEqual(DEFAULT_BACKOFF.maxDelay);
  await pastGrace.until((s) => s.state === "expired", "past-grace: expiry");
  while (Date.now() < notAfter + 2_000) await Bun.sleep(200);

  server = await startServerProcess({ tls: true, data: data, port });
  // Hint: each agent retries when its own backoff says; wait for that planned attempt (plus a margin), not a fixed time.
  const untilPlanned = async (agent: AgentProcess) =>
    Math.max(
      0,
      Date.parse(String((await agent.until(() => true, "status")).nextRenewal)) - Date.now(),
    ) + 60_000;
  const renewed = await inGrace.until(
    (s) => s.state === "ready" && s.renewals >= 1,
    "the renewal once the service is back",
    await untilPlanned(inGrace),
  );
  expect(renewed.serial).not.toBe(held.serial);
  expect(renewed.certificateValid).toBe(true);
  const record = (await server.adminCall("GET", "/v1/groups/in-grace/devices/dev")).json as {
    serial: string;
  };
  expect([renewed.serial, (await inGrace.until(() => true, "status")).serial]).toContain(
    record.serial,
  );

  const refused = await pastGrace.until(
    (s) => s.state === "error" && s.nextRenewal !== null,
    "past-grace: the refusal and the planned retry",
    await untilPlanned(pastGrace),
  );
  expect(String(refused.lastError)).toContain("the service refused renewal");
  expect(String(refused.lastError)).toContain("renew grace");
  expect(String(refused.lastError)).toContain("must be reset by an operator");
  // The slow retry after a refusal: planned well after the failure that set it (measured from that failure,
  // since the in-grace agent's renewal above may have kept this check waiting for most of the delay).
  expect(
    Date.parse(String(refused.nextRenewal)) - Date.parse(String(refused.lastErrorAt)),
  ).toBeGreaterThan(20_000);
}, 900_000);
