/** What one client may cost the embedded broker: unfinished handshakes, oversized packets, retained topics, connections. */

import { afterEach, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { startBrokerFixture, type BrokerFixture } from "../helpers/broker-fixture.ts";
import {
  brokerConnectionLimit,
  connectionLimitFor,
  HANDSHAKE_TIMEOUT_MS,
  MAX_RETAINED_PER_DEVICE,
  RetainedQuota,
} from "../../src/iota-server/mqtt/broker-limits.ts";

let fixture: BrokerFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

/** Resolves with the ms until `socket`'s connection closed, or rejects after `limitMs`. */
function closedWithin(socket: ReturnType<typeof connect>, limitMs: number): Promise<number> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still open after ${limitMs} ms`)), limitMs);
    socket.once("close", () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}

describe("embedded broker limits", () => {
  test("a connection that never starts TLS is closed after the handshake timeout", async () => {
    fixture = await startBrokerFixture();
    const idle = connect(fixture.broker.port, "127.0.0.1");
    idle.on("error", () => {});
    const took = await closedWithin(idle, HANDSHAKE_TIMEOUT_MS + 5_000);
    expect(took).toBeGreaterThanOrEqual(HANDSHAKE_TIMEOUT_MS - 500);
    expect(fixture.svc.log.lines.join("\n")).toContain("TLS handshake timeout");
  }, 30_000);

  test("a packet over the size limit ends the connection at its header; smaller ones pass", async () => {
    fixture = await startBrokerFixture({ maxPacketBytes: 4096 });
    const creds = await fixture.device("limits", "dev-1");
    const client = await fixture.connect(creds);
    await client.publishAsync("iota/limits/dev-1/data", Buffer.alloc(3000, 1), { qos: 1 });
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.publish("iota/limits/dev-1/data", Buffer.alloc(100_000, 1), { qos: 0 });
    await closed;
    expect(fixture.svc.log.lines.join("\n")).toMatch(/a packet of 1000\d\d bytes \(at most 4096\)/);
  });

  test(`a device keeps at most ${MAX_RETAINED_PER_DEVICE} retained topics; clearing one makes room`, async () => {
    fixture = await startBrokerFixture();
    const creds = await fixture.device("limits", "dev-2");
    const client = await fixture.connect(creds);
    for (let i = 0; i < MAX_RETAINED_PER_DEVICE; i++)
      await client.publishAsync(`iota/limits/dev-2/t${i}`, "x", { qos: 1, retain: true });
    await client.publishAsync("iota/limits/dev-2/t0", "", { qos: 1, retain: true });
    await client.publishAsync("iota/limits/dev-2/again", "x", { qos: 1, retain: true });
    const closed = new Promise<void>((resolve) => client.once("close", () => resolve()));
    client.publish("iota/limits/dev-2/one-too-many", "x", { qos: 1, retain: true });
    await closed;
    expect(fixture.svc.log.lines.join("\n")).toContain(
      `limits/dev-2 may not keep more than ${MAX_RETAINED_PER_DEVICE} retained messages`,
    );
  });

  test("connections beyond the limit are refused at once; the ones within it stay", async () => {
    fixture = await startBrokerFixture({ maxConnections: 2 });
    const creds = await fixture.device("limits", "dev-3");
    const first = await fixture.connect(creds, { clientId: "" });
    const second = await fixture.connect(creds, { clientId: "" });
    await expect(fixture.connect(creds, { clientId: "" })).rejects.toThrow();
    expect(first.connected && second.connected).toBe(true);
  });
});

describe("the limits' rules", () => {
  test("the broker leaves the API 1,024 descriptors of the file limit, and takes at least 64", () => {
    expect(connectionLimitFor(20_000)).toBe(18_976);
    expect(connectionLimitFor(1_024)).toBe(64);
    expect(connectionLimitFor(undefined)).toBe(10_000);
    const soft = /^Max open files\s+(\d+)/m.exec(readFileSync("/proc/self/limits", "utf8"))?.[1];
    expect(brokerConnectionLimit()).toBe(connectionLimitFor(soft ? Number(soft) : undefined));
  });

  test("retained topics are counted per device; an empty payload frees its topic", () => {
    const quota = new RetainedQuota(2);
    expect(quota.admit("g/a", "t1", false)).toBe(true);
    expect(quota.admit("g/a", "t2", false)).toBe(true);
    expect(quota.admit("g/a", "t1", false)).toBe(true);
    expect(quota.admit("g/a", "t3", false)).toBe(false);
    expect(quota.admit("g/b", "t3", false)).toBe(true);
    expect(quota.admit("g/a", "t1", true)).toBe(true);
    expect(quota.admit("g/a", "t3", false)).toBe(true);
  });
});
