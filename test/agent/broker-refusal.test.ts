/** The MQTT announcer tells a refused certificate from other CONNACK failures, as the real mqtt.js client reports them. */

import { afterAll, expect, test } from "bun:test";
import { createServer, type Server } from "node:net";
import mqtt from "mqtt";
import { systemClock } from "../../src/iotad/clock.ts";
import { memoryLogger } from "../../src/iotad/logger.ts";
import {
  type BrokerVerdict,
  isCredentialRefusal,
  MqttAnnouncer,
} from "../../src/iotad/mqtt-announcer.ts";
import { ANNOUNCED_IDENTITY, eventually, listenAsBroker } from "../helpers/agent-support.ts";

const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

/** A TCP "broker" answering every CONNECT with an MQTT 3.1.1 CONNACK carrying `returnCode`. */
async function connackBroker(returnCode: number): Promise<string> {
  const server = createServer((socket) => {
    socket.once("data", () => socket.write(Buffer.from([0x20, 0x02, 0x00, returnCode])));
    socket.on("error", () => {});
  });
  servers.push(server);
  return await listenAsBroker(server);
}

/** Connects an announcer to a broker answering `returnCode`; the verdicts and the status it reached. */
async function verdictsFor(returnCode: number) {
  const verdicts: BrokerVerdict[] = [];
  const announcer = new MqttAnnouncer({
    url: await connackBroker(returnCode),
    topicPrefix: "iota",
    group: "room2-lights",
    device: "test-device-123",
    version: "test",
    connect: (url, options) => mqtt.connect(url, options),
    clock: systemClock(),
    random: () => 0.5,
    log: memoryLogger(),
    backoff: { minDelay: 60_000, maxDelay: 60_000 },
    onVerdict: (verdict) => verdicts.push(verdict),
  });
  announcer.use(ANNOUNCED_IDENTITY);
  await eventually(() => announcer.status().lastError !== null, `CONNACK ${returnCode}`);
  const status = announcer.status();
  await announcer.stop();
  return { verdicts, status };
}

test("CONNACK 5 (not authorized) and 4 (bad user name or password) are refusals of the certificate", async () => {
  for (const code of [5, 4]) {
    const { verdicts, status } = await verdictsFor(code);
    expect(verdicts).toEqual([{ verdict: "refused", serial: "0a1b2c" }]);
    expect(status.lastError).toContain("Connection refused");
  }
});

test("CONNACK 3 (server unavailable) and 2 (identifier rejected) are not about the certificate", async () => {
  for (const code of [3, 2]) {
    const { verdicts, status } = await verdictsFor(code);
    expect(verdicts).toEqual([]);
    expect(status.lastError).toContain("Connection refused");
  }
});

test("MQTT 5 reason codes 0x86 and 0x87 are refusals; 0x88 (server unavailable) and network errors are not", () => {
  const withCode = (code: unknown) => Object.assign(new Error("Connection refused"), { code });
  expect(isCredentialRefusal(withCode(0x86))).toBe(true);
  expect(isCredentialRefusal(withCode(0x87))).toBe(true);
  expect(isCredentialRefusal(withCode(0x88))).toBe(false);
  expect(isCredentialRefusal(withCode("ECONNREFUSED"))).toBe(false);
  expect(isCredentialRefusal(new Error("socket hang up"))).toBe(false);
});

test("the TLS alert certificate_revoked (Mosquitto with a CRL, as test/mosquitto.test.ts sees it) is a refusal", () => {
  const alert = Object.assign(new Error("SSLV3_ALERT_CERTIFICATE_REVOKED"), {
    code: "ERR_SSL_SSLV3_ALERT_CERTIFICATE_REVOKED",
  });
  expect(isCredentialRefusal(alert)).toBe(true);
  const unknownCa = Object.assign(new Error("unable to verify the first certificate"), {
    code: "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  });
  expect(isCredentialRefusal(unknownCa)).toBe(false);
});
