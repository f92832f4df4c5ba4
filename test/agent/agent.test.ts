import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { renewalTime, serialRandom } from "../../src/core/renewal.ts";
import { createTestService, type TestService } from "../helpers/test-service.ts";
import { Agent } from "../../src/iotad/agent.ts";
import { nodeDisk } from "../../src/iotad/disk.ts";
import { IdentityStore } from "../../src/iotad/identity-store.ts";
import { memoryLogger } from "../../src/iotad/logger.ts";
import { ServerClock } from "../../src/iotad/server-clock.ts";
import { ServiceClient } from "../../src/iotad/service-client.ts";
import { appTransport, eventually, FakeClock } from "../helpers/agent-support.ts";

const POLICY = { fraction: 2 / 3, jitter: 1 / 20, spreadFirst: true };
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** An agent on a fake clock talking to an in-process service whose clock follows it (plus `skewMs`). */
async function setup(
  options: {
    skewMs?: number;
    validity?: string;
    app?: Parameters<typeof createTestService>[0];
  } = {},
) {
  const service: TestService = await createTestService(options.app);
  const clock = new FakeClock(service.clock.now - (options.skewMs ?? 0));
  // The service's clock is the agent's plus the skew, always.
  Object.defineProperty(service.clock, "now", {
    get: () => clock.now() + (options.skewMs ?? 0),
    set: () => {},
  });
  const group = (await (
    await service.call("POST", "/v1/groups", {
      name: "room2-lights",
      validity: options.validity ?? "1h",
    })
  ).json()) as { provisioningSecret: string };
  await service.call("POST", "/v1/groups/room2-lights/devices", { name: "test-device-123" });
  const transport = appTransport(service.app, () => service.clock.now);
  const dir = mkdtempSync(join(tmpdir(), "iotad-agent-"));
  dirs.push(dir);
  const serverClock = new ServerClock(() => clock.now());
  const log = memoryLogger();
  const agent = new Agent({
    settings: {
      group: "room2-lights",
      device: "test-device-123",
      credential: { kind: "secret", value: group.provisioningSecret },
      renewal: POLICY,
    },
    store: new IdentityStore(nodeDisk(), dir),
    service: new ServiceClient("http://service", transport, serverClock, () => clock.now()),
    serverClock,
    clock,
    random: () => 0.5,
    log,
  });
  return { service, clock, transport, agent, log, serverClock, dir };
}

describe("agent", () => {
  test("provisions, then renews exactly at the schedule computed from the certificate", async () => {
    const { agent, clock, transport, log } = await setup();
    await agent.start();
    await eventually(() => agent.current().kind === "ready", "provisioning");
    const first = agent.heldIdentity();
    if (!first) throw new Error("no identity after provisioning");
    expect(first.first).toBe(true);
    const due = renewalTime(first, POLICY, serialRandom(first.serial), true);
    expect(agent.snapshot().nextRenewal).toBe(new Date(due).toISOString());
    clock.advance(due - clock.now() - 1);
    expect(transport.calls.filter((c) => c.endsWith("/renew"))).toHaveLength(0);
    clock.advance(1);
    await eventually(() => agent.snapshot().renewals === 1, "the first renewal");
    const second = agent.heldIdentity();
    expect(second?.serial).not.toBe(first.serial);
    expect(second?.first).toBe(false);
    const next = renewalTime(
      second as NonNullable<typeof second>,
      POLICY,
      serialRandom(second?.serial ?? ""),
      false,
    );
    expect(agent.snapshot().nextRenewal).toBe(new Date(next).toISOString());
    expect(agent.snapshot().state).toBe("ready");
    expect(log.lines.join("\n")).not.toContain(
      agent.heldIdentity()?.keyPem.slice(40, 80) ?? "never",
    );
    await agent.stop();
  });

  test("while the service is down the certificate stays in use; retries back off, then recover", async () => {
    const { agent, clock, transport } = await setup();
    await agent.start();
    await eventually(() => agent.current().kind === "ready", "provisioning");
    const held = agent.heldIdentity()?.serial;
    transport.down = true;
    agent.renewNow();
    await eventually(() => agent.snapshot().renewalFailures === 1, "a failed renewal");
    const s = agent.snapshot();
    expect(s.state).toBe("renewing");
    expect(s.serial).toBe(held as string);
    expect(s.certificateValid).toBe(true);
    expect(s.lastError).toContain("unreachable");
    // Equal-jitter backoff from 5 s: the first retry comes 2.5-5 s later, the next 5-10 s.
    const firstRetry = Date.parse(s.nextRenewal ?? "") - clock.now();
    expect(firstRetry).toBeGreaterThanOrEqual(2_500);
    expect(firstRetry).toBeLessThanOrEqual(5_000);
    clock.advance(firstRetry);
    await eventually(() => agent.snapshot().renewalFailures === 2, "a second failed renewal");
    const secondRetry = Date.parse(agent.snapshot().nextRenewal ?? "") - clock.now();
    expect(secondRetry).toBeGreaterThan(firstRetry);
    transport.down = false;
    clock.advance(secondRetry);
    await eventually(() => agent.snapshot().renewals === 1, "the renewal after recovery");
    expect(agent.snapshot().state).toBe("ready");
    expect(agent.heldIdentity()?.serial).not.toBe(held as string);
    await agent.stop();
  });

  test("honours Retry-After from a throttled service", async () => {
    const { agent, clock, service } = await setup();
    await agent.start();
    await eventually(() => agent.current().kind === "ready", "provisioning");
    const original = service.app.request.bind(service.app);
    (service.app as { request: unknown }).request = async (path: string, init: RequestInit) =>
      path === "/v1/renew"
        ? new Response(JSON.stringify({ status: 429, detail: "slow down" }), {
            status: 429,
            headers: { "retry-after": "120" },
          })
        : await original(path, init);
    agent.renewNow();
    await eventually(() => agent.snapshot().renewalFailures === 1, "a throttled renewal");
    expect(Date.parse(agent.snapshot().nextRenewal ?? "") - clock.now()).toBeGreaterThanOrEqual(
      120_000,
    );
    expect(agent.snapshot().lastError).toContain("slow down");
    await agent.stop();
  });

  test("a service shedding load (503 from its full issuing queue) is retried no earlier than its Retry-After", async () => {
    // Hint: a queue with no room sheds every issuing request, as an overloaded service does.
    const { agent, clock } = await setup({
      app: { issueQueue: { concurrency: 0, depth: 0, retryAfter: 90 } },
    });
    await agent.start();
    await eventually(() => agent.snapshot().lastError !== null, "a shed provisioning");
    const s = agent.snapshot();
    expect(s.state).toBe("provisioning");
    expect(s.lastError).toContain("busy");
    expect(Date.parse(s.nextRenewal ?? "") - clock.now()).toBeGreaterThanOrEqual(90_000);
    await agent.stop();
  });

  test("a clock two hours behind schedules and signs by the service's time, and reports the skew", async () => {
    const skewMs = 2 * 3600_000;
    const { agent, clock, serverClock } = await setup({ skewMs });
    await agent.start();
    await eventually(() => agent.current().kind === "ready", "provisioning");
    expect(Math.abs((agent.snapshot().clockSkewMs ?? 0) - skewMs)).toBeLessThan(2_000);
    expect(serverClock.offset()).toBe(agent.snapshot().clockSkewMs as number);
    const id = agent.heldIdentity();
    if (!id) throw new Error("no identity");
    const due = renewalTime(id, POLICY, serialRandom(id.serial), true);
    // Due by the service's clock: the local clock reads two hours less.
    clock.advance(due - serverClock.now() - 1_000);
    expect(agent.snapshot().renewals).toBe(0);
    clock.advance(1_000);
    await eventually(
      () => agent.snapshot().renewals === 1,
      "a renewal signed with the service's time",
    );
    expect(agent.snapshot().lastError).toBeNull();
    await agent.stop();
  });

  test("a certificate that ran out shows as expired and is still renewed when the service returns", async () => {
    const { agent, clock, transport } = await setup({ validity: "1m" });
    await agent.start();
    await eventually(() => agent.current().kind === "ready", "provisioning");
    transport.down = true;
    clock.jump(5 * 60_000);
    expect(agent.snapshot().state).toBe("expired");
    expect(agent.snapshot().certificateValid).toBe(false);
    agent.renewNow();
    await eventually(() => agent.snapshot().renewalFailures === 1, "a failed renewal");
    expect(agent.current()).toEqual({ kind: "expired", attempt: 1 });
    transport.down = false;
    clock.fireNext();
    await eventually(() => agent.snapshot().renewals === 1, "the late renewal");
    expect(agent.snapshot().certificateValid).toBe(true);
    await agent.stop();
  });

  test("a refused provisioning is an error state naming the reason, without the secret", async () => {
    const service = await createTestService();
    await service.call("POST", "/v1/groups", { name: "g" });
    await service.call("POST", "/v1/groups/g/devices", { name: "d" });
    const clock = new FakeClock(service.clock.now);
    const serverClock = new ServerClock(() => clock.now());
    const dir = mkdtempSync(join(tmpdir(), "iotad-agent-"));
    dirs.push(dir);
    const log = memoryLogger();
    const agent = new Agent({
      settings: {
        group: "g",
        device: "d",
        credential: { kind: "token", value: "not-the-token-SECRETVALUE" },
        renewal: POLICY,
      },
      store: new IdentityStore(nodeDisk(), dir),
      service: new ServiceClient("http://service", appTransport(service.app), serverClock, () =>
        clock.now(),
      ),
      serverClock,
      clock,
      random: () => 0,
      log,
    });
    const result = await agent.provisionOnce();
    expect(result.ok).toBe(false);
    expect(agent.current().kind).toBe("error");
    expect(agent.snapshot().lastError).toContain("401");
    expect(JSON.stringify(agent.snapshot()) + log.lines.join("\n")).not.toContain("SECRETVALUE");
  });
});
