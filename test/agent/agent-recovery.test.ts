import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestService, type TestService } from "../helpers/test-service.ts";
import { Agent, REFUSED_BACKOFF } from "../../src/iotad/agent.ts";
import type { HttpTransport } from "../../src/iotad/http-transport.ts";
import { nodeDisk } from "../../src/iotad/disk.ts";
import { IdentityStore } from "../../src/iotad/identity-store.ts";
import { memoryLogger } from "../../src/iotad/logger.ts";
import { ServerClock } from "../../src/iotad/server-clock.ts";
import { ServiceClient } from "../../src/iotad/service-client.ts";
import { appTransport, eventually, FakeClock } from "../helpers/agent-support.ts";

const POLICY = { fraction: 2 / 3, jitter: 1 / 20, spreadFirst: true };
const GROUP = "room2-lights";
const DEVICE = "test-device-123";
const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A service whose clock follows a fake clock (plus `skewMs`), one device, and a factory of agents on one data folder. */
async function setup(options: { skewMs?: number; validity?: string; renewGrace?: string } = {}) {
  const skewMs = options.skewMs ?? 0;
  const service: TestService = await createTestService();
  const clock = new FakeClock(service.clock.now - skewMs);
  Object.defineProperty(service.clock, "now", { get: () => clock.now() + skewMs, set: () => {} });
  const group = (await (
    await service.call("POST", "/v1/groups", {
      name: GROUP,
      validity: options.validity ?? "1h",
      renewGrace: options.renewGrace ?? "1h",
    })
  ).json()) as { provisioningSecret: string };
  await service.call("POST", `/v1/groups/${GROUP}/devices`, { name: DEVICE });
  const transport = appTransport(service.app, () => service.clock.now);
  const dir = mkdtempSync(join(tmpdir(), "iotad-recovery-"));
  dirs.push(dir);
  /** A new agent process on the same data folder: a fresh service clock, nothing in memory. */
  const makeAgent = (via: HttpTransport = transport) => {
    const serverClock = new ServerClock(() => clock.now());
    const log = memoryLogger();
    const agent = new Agent({
      settings: {
        group: GROUP,
        device: DEVICE,
        credential: { kind: "secret", value: group.provisioningSecret },
        renewal: POLICY,
      },
      store: new IdentityStore(nodeDisk(), dir),
      service: new ServiceClient("http://service", via, serverClock, () => clock.now()),
      serverClock,
      clock,
      random: () => 0.5,
      log,
    });
    return { agent, log, serverClock };
  };
  const device = async () =>
    (await (await service.call("GET", `/v1/groups/${GROUP}/devices/${DEVICE}`)).json()) as {
      state: string;
      serial: string;
    };
  return { service, clock, transport, dir, makeAgent, device };
}

/** Moves the fake clock to the agent's next planned attempt (timers wake every minute on the way). */
async function toNextAttempt(clock: FakeClock, agent: Agent, skewMs = 0): Promise<void> {
  await eventually(() => agent.snapshot().nextRenewal !== null, "a planned attempt");
  // Hint: nextRenewal is in the service's time as the agent measured it (to within a second: `Date` has whole seconds).
  clock.advance(
    Math.max(0, Date.parse(agent.snapshot().nextRenewal ?? "") - (clock.now() + skewMs)) +
      (skewMs === 0 ? 0 : 1_000),
  );
}

const renewCalls = (calls: string[]) => calls.filter((c) => c.endsWith("/renew")).length;
const provisionCalls = (calls: string[]) => calls.filter((c) => c.endsWith("/provision")).length;

describe("agent recovery", () => {
  test("a revoked device stops renewing, says it must be reset, retries provisioning slowly, and comes back after a reset", async () => {
    const { service, clock, transport, makeAgent, device } = await setup();
    const { agent, log } = makeAgent();
    await agent.start();
    await eventually(() => agent.current().kind === "ready", "provisioning");
    const revoked = agent.heldIdentity()?.serial as string;
    expect(
      (await service.call("POST", `/v1/groups/${GROUP}/devices/${DEVICE}/revoke`)).status,
    ).toBe(200);
    agent.renewNow();
    await eventually(
      () => agent.current().kind === "error" && provisionCalls(transport.calls) === 2,
      "the refusal and one provisioning attempt",
    );
    const s = agent.snapshot();
    expect(s.lastError).toContain("the service refused renewal");
    expect(s.lastError).toContain("revoked");
    expect(s.lastError).toContain("must be reset by an operator");
    expect(s.certificateValid).toBe(false);
    expect(log.lines.join("\n")).toContain("the service refused renewal");
    // Slow retries: the first comes 30-60 s later, never a 5 s network-error loop; the cap is an hour.
    const delay = Date.parse(s.nextRenewal ?? "") - clock.now();
    expect(delay).toBeGreaterThanOrEqual(REFUSED_BACKOFF.minDelay / 2);
    expect(delay).toBeLessThanOrEqual(REFUSED_BACKOFF.minDelay);
    const renewsBefore = renewCalls(transport.calls);
    for (let i = 0; i < 8; i++) {
      const before = provisionCalls(transport.calls);
      await toNextAttempt(clock, agent);
      await eventually(
        () => provisionCalls(transport.calls) === before + 1 && agent.current().kind === "error",
        `slow retry ${i + 1}`,
      );
    }
    expect(Date.parse(agent.snapshot().nextRenewal ?? "") - clock.now()).toBeLessThanOrEqual(
      REFUSED_BACKOFF.maxDelay,
    );
    expect(Date.parse(agent.snapshot().nextRenewal ?? "") - clock.now()).toBeGreaterThanOrEqual(
      REFUSED_BACKOFF.maxDelay / 2,
    );
    expect(renewCalls(transport.calls)).toBe(renewsBefore);
    // The operator resets the device; nobody touches the agent.
    expect((await service.call("POST", `/v1/groups/${GROUP}/devices/${DEVICE}/reset`)).status).toBe(
      200,
    );
    await toNextAttempt(clock, agent);
    await eventually(() => agent.current().kind === "ready", "provisioning after the reset");
    const back = agent.heldIdentity();
    expect(back?.serial).not.toBe(revoked);
    expect(back?.first).toBe(true);
    expect(agent.snapshot().certificateValid).toBe(true);
    expect((await device()).serial).toBe(back?.serial as string);
    await agent.stop();
  });

  test("a certificate expired past the group's renew grace: refused, then provisioning is refused (409) until a reset", async () => {
    const { service, clock, transport, makeAgent } = await setup({
      validity: "1m",
      renewGrace: "2m",
    });
    const { agent } = makeAgent();
    await agent.start();
    await eventually(() => agent.current().kind === "ready", "provisioning");
    transport.down = true;
    clock.jump(4 * 60_000);
    transport.down = false;
    agent.renewNow();
    await eventually(
      () => agent.current().kind === "error" && provisionCalls(transport.calls) === 2,
      "the refusal",
    );
    expect(agent.snapshot().lastError).toContain("renew grace");
    expect(agent.snapshot().lastError).toContain("409");
    await service.call("POST", `/v1/groups/${GROUP}/devices/${DEVICE}/reset`);
    await toNextAttempt(clock, agent);
    await eventually(() => agent.current().kind === "ready", "provisioning after the reset");
    await agent.stop();
  });

  test("within the renew grace an expired certificate is renewed, not refused", async () => {
    const { clock, transport, makeAgent } = await setup({ validity: "1m", renewGrace: "2m" });
    const { agent } = makeAgent();
    await agent.start();
    await eventually(() => agent.current().kind === "ready", "provisioning");
    clock.jump(90_000);
    agent.renewNow();
    await eventually(() => agent.snapshot().renewals === 1, "the late renewal");
    expect(agent.current().kind).toBe("ready");
    expect(provisionCalls(transport.calls)).toBe(1);
    await agent.stop();
  });

  test("a provisioning refused with 401 is retried slowly and names the credential", async () => {
    const { clock, makeAgent, service } = await setup();
    await service.call("POST", `/v1/groups/${GROUP}/secret`);
    const { agent } = makeAgent();
    await agent.start();
    await eventually(() => agent.current().kind === "error", "the refusal");
    expect(agent.snapshot().lastError).toContain("check the device's token or secret");
    expect(Date.parse(agent.snapshot().nextRenewal ?? "") - clock.now()).toBeGreaterThanOrEqual(
      REFUSED_BACKOFF.minDelay / 2,
    );
    await agent.stop();
  });

  test("a start with a pending key after a lost renewal answer renews at once and gets the recorded certificate", async () => {
    const { transport, makeAgent, device } = await setup();
    const first = makeAgent();
    await first.agent.start();
    await eventually(() => first.agent.current().kind === "ready", "provisioning");
    const old = first.agent.heldIdentity()?.serial as string;
    await first.agent.stop();
    // The service issues the renewal, but its answer never arrives (power cut, dropped connection).
    const losing: HttpTransport = async (request) => {
      const answer = await transport(request);
      if (request.url.endsWith("/renew"))
        throw Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
      return answer;
    };
    expect((await makeAgent(losing).agent.renewOnce()).ok).toBe(false);
    const recorded = (await device()).serial;
    expect(recorded).not.toBe(old);
    // Restart: no clock advance, so only an immediate renewal can fetch it.
    const second = makeAgent();
    const before = renewCalls(transport.calls);
    await second.agent.start();
    await eventually(
      () =>
        second.agent.heldIdentity()?.serial === recorded && second.agent.current().kind === "ready",
      "the recorded certificate",
    );
    expect(renewCalls(transport.calls)).toBe(before + 1);
    expect((await device()).serial).toBe(recorded);
    await second.agent.stop();
  });

  test("a start without a pending key waits for the planned renewal", async () => {
    const { transport, makeAgent } = await setup();
    const first = makeAgent();
    await first.agent.start();
    await eventually(() => first.agent.current().kind === "ready", "provisioning");
    await first.agent.stop();
    const second = makeAgent();
    await second.agent.start();
    expect(second.agent.current().kind).toBe("ready");
    expect(renewCalls(transport.calls)).toBe(0);
    await second.agent.stop();
  });

  test("a garbage cert.pem on start: reported, then fetched again by provisioning with the same key, and the error cleared", async () => {
    const { transport, makeAgent, dir } = await setup();
    const first = makeAgent();
    await first.agent.start();
    await eventually(() => first.agent.current().kind === "ready", "provisioning");
    const serial = first.agent.heldIdentity()?.serial as string;
    const key = readFileSync(join(dir, "key.pem"), "utf8");
    await first.agent.stop();
    const cert = readFileSync(join(dir, "cert.pem"), "utf8");
    writeFileSync(join(dir, "cert.pem"), cert.slice(0, cert.length / 2));
    const second = makeAgent();
    await second.agent.start();
    await eventually(() => second.agent.current().kind === "ready", "recovery");
    expect(second.log.lines.join("\n")).toContain("cert.pem is not a PEM certificate");
    // Reported in the log; once the certificate is fetched again the damage is over and no longer an error.
    expect(second.agent.snapshot().lastError).toBeNull();
    expect(second.agent.heldIdentity()?.serial).toBe(serial);
    expect(readFileSync(join(dir, "key.pem"), "utf8")).toBe(key);
    expect(readFileSync(join(dir, "cert.pem"), "utf8")).toBe(cert);
    expect(existsSync(join(dir, "key.pending.pem"))).toBe(false);
    expect(provisionCalls(transport.calls)).toBe(2);
  });

  test("a restart with the clock before the certificate's notBefore renews at once (its schedule would never come due)", async () => {
    const { clock, transport, makeAgent } = await setup({ skewMs: 3 * 3600_000 });
    const first = makeAgent();
    await first.agent.start();
    await eventually(() => first.agent.current().kind === "ready", "provisioning");
    await first.agent.stop();
    const second = makeAgent();
    await second.agent.start();
    // The proof signed by the wrong clock is rejected once; that answer teaches the service's time.
    await eventually(
      () => second.agent.snapshot().renewalFailures === 1,
      "the first attempt at start",
    );
    expect(second.agent.current().kind).toBe("renewing");
    await toNextAttempt(clock, second.agent, 3 * 3600_000);
    await eventually(() => second.agent.snapshot().renewals === 1, "the renewal");
    expect(second.agent.current().kind).toBe("ready");
    expect(renewCalls(transport.calls)).toBe(2);
    expect(second.log.lines.join("\n")).toContain("before the certificate's notBefore");
    await second.agent.stop();
  });

  test("a device booted with its clock far off: the first renewal proof is rejected, then signed by the service's time and accepted", async () => {
    const { transport, makeAgent } = await setup({ skewMs: 3 * 3600_000 });
    const first = makeAgent();
    await first.agent.start();
    await eventually(() => first.agent.current().kind === "ready", "provisioning");
    await first.agent.stop();
    const second = makeAgent();
    expect(second.serverClock.skew()).toBeNull();
    const attempt = await second.agent.renewOnce();
    expect(attempt.ok).toBe(false);
    expect(second.agent.current().kind).toBe("renewing");
    expect((await second.agent.renewOnce()).ok).toBe(true);
    expect(renewCalls(transport.calls)).toBe(2);
  });
});
