/**
 * The announcer with a device clock the broker's certificate disagrees with: the next attempt, and only that
 * one, asks for the broker's certificate to be checked without its dates, and only when a broker CA is pinned.
 */

import { expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import type { MqttClient } from "mqtt";
import { memoryLogger } from "../../src/iotad/logger.ts";
import { type MqttConnect, MqttAnnouncer } from "../../src/iotad/mqtt-announcer.ts";
import { ANNOUNCED_IDENTITY, FakeClock } from "../helpers/agent-support.ts";

/** A client that fails at once with `code` (a TLS verification error), as mqtt.js reports it, then closes. */
function failingClient(code: string): MqttClient {
  const client = Object.assign(new EventEmitter(), {
    connected: false,
    end: () => client,
  });
  queueMicrotask(() => {
    client.emit("error", Object.assign(new Error(code.toLowerCase()), { code }));
    client.emit("close");
  });
  return client as unknown as MqttClient;
}

function announcer(ca: string | undefined, codes: string[], url = "mqtts://broker.example:8883") {
  const clock = new FakeClock(0);
  const asked: boolean[] = [];
  const connect: MqttConnect = (_url, _options, ignoreClock) => {
    asked.push(ignoreClock === true);
    return failingClient(codes[asked.length - 1] ?? "ECONNREFUSED");
  };
  const log = memoryLogger();
  const a = new MqttAnnouncer({
    url,
    ...(ca !== undefined ? { ca } : {}),
    topicPrefix: "iota",
    group: "g",
    device: "d",
    version: "test",
    connect,
    clock,
    random: () => 0.5,
    log,
  });
  return { a, clock, asked, log };
}

/** Lets the fake client's events run, then fires the reconnection timer. */
async function nextAttempt(clock: FakeClock): Promise<void> {
  await Bun.sleep(1);
  clock.advance(120_000);
  await Bun.sleep(1);
}

test("after a clock error with a pinned broker CA, the next attempt (only) ignores the certificate's dates", async () => {
  const { a, clock, asked, log } = announcer("PINNED", [
    "CERT_NOT_YET_VALID",
    "ECONNREFUSED",
    "CERT_HAS_EXPIRED",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
  ]);
  a.use(ANNOUNCED_IDENTITY);
  for (let i = 0; i < 4; i++) await nextAttempt(clock);
  expect(asked.slice(0, 5)).toEqual([false, true, false, true, false]);
  expect(log.lines).toContain(
    "warn mqtt: cert_not_yet_valid by this device's clock; the next attempt checks the broker's certificate against the pinned CA without its validity dates",
  );
  await a.stop();
});

test("without a pinned broker CA (the system roots), a clock error never relaxes the check", async () => {
  const { a, clock, asked } = announcer(undefined, ["CERT_NOT_YET_VALID", "CERT_HAS_EXPIRED"]);
  a.use(ANNOUNCED_IDENTITY);
  for (let i = 0; i < 2; i++) await nextAttempt(clock);
  expect(asked.slice(0, 3)).toEqual([false, false, false]);
  await a.stop();
});

test("over wss:// (no date-free check for it), a clock error never relaxes the check nor promises it", async () => {
  const { a, clock, asked, log } = announcer(
    "PINNED",
    ["CERT_NOT_YET_VALID", "CERT_HAS_EXPIRED"],
    "wss://broker.example:8884/mqtt",
  );
  a.use(ANNOUNCED_IDENTITY);
  for (let i = 0; i < 2; i++) await nextAttempt(clock);
  expect(asked.slice(0, 3)).toEqual([false, false, false]);
  expect(log.lines.join("\n")).not.toContain("without its validity dates");
  expect(log.lines.join("\n")).toContain("cert_not_yet_valid");
  await a.stop();
});
