/**
 * What the agent's log says when a connection ends. A stopping agent says whether its offline announcement
 * reached the broker, and does not wait out its timers when the connection is already gone (as when the
 * service and the agent stop together); a session the broker ends during a renewal is no warning. Driven
 * against a minimal MQTT 3.1.1 broker over TCP, with the real mqtt.js client.
 */

import { afterAll, expect, test } from "bun:test";
import { createServer, type Server, type Socket } from "node:net";
import mqtt from "mqtt";
import { memoryLogger } from "../../src/iotad/logger.ts";
import { MqttAnnouncer, redactUrl } from "../../src/iotad/mqtt-announcer.ts";
import {
  ANNOUNCED_IDENTITY,
  eventually,
  FakeClock,
  listenAsBroker,
} from "../helpers/agent-support.ts";

/** What the broker does with the agent's `offline` publish: acknowledge it, drop the connection, or nothing. */
type OfflineAnswer = "puback" | "close" | "silence";

interface FakeBroker {
  url: string;
  /** The payloads published to the broker so far, in order. */
  published: string[];
  /** The connections it accepted. */
  sockets: Socket[];
}

const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
});

/** Splits MQTT packets from a byte stream: [first byte, body] for each whole packet. */
function packets(buffer: Buffer): { packets: [number, Buffer][]; rest: Buffer } {
  const out: [number, Buffer][] = [];
  let at = 0;
  for (;;) {
    let length = 0;
    let multiplier = 1;
    let i = at + 1;
    for (;;) {
      if (i >= buffer.length) return { packets: out, rest: buffer.subarray(at) };
      const byte = buffer[i++] as number;
      length += (byte & 0x7f) * multiplier;
      multiplier *= 128;
      if ((byte & 0x80) === 0) break;
    }
    if (i + length > buffer.length) return { packets: out, rest: buffer.subarray(at) };
    out.push([buffer[at] as number, buffer.subarray(i, i + length)]);
    at = i + length;
  }
}

async function fakeBroker(offline: OfflineAnswer): Promise<FakeBroker> {
  const published: string[] = [];
  const sockets: Socket[] = [];
  const server = createServer((socket: Socket) => {
    sockets.push(socket);
    let pending = Buffer.alloc(0);
    socket.on("error", () => {});
    socket.on("data", (chunk: Buffer) => {
      const split = packets(Buffer.concat([pending, chunk]));
      pending = Buffer.from(split.rest);
      for (const [first, body] of split.packets) {
        const type = first >> 4;
        if (type === 1) socket.write(Buffer.from([0x20, 0x02, 0x00, 0x00]));
        else if (type === 12) socket.write(Buffer.from([0xd0, 0x00]));
        else if (type === 14) socket.end();
        else if (type === 3) {
          const qos = (first >> 1) & 3;
          const topicLength = body.readUInt16BE(0);
          const idAt = 2 + topicLength;
          const payload = body.subarray(qos > 0 ? idAt + 2 : idAt).toString("utf8");
          published.push(payload);
          const isOffline = payload.includes('"offline"');
          if (isOffline && offline === "close") socket.destroy();
          else if (isOffline && offline === "silence") continue;
          else if (qos > 0)
            socket.write(Buffer.from([0x40, 0x02, body[idAt] ?? 0, body[idAt + 1] ?? 0]));
        }
      }
    });
  });
  servers.push(server);
  return { url: await listenAsBroker(server), published, sockets };
}

/** An announcer connected to a broker answering its offline publish with `offline`, on a clock the test moves. */
async function connected(offline: OfflineAnswer, renewing = () => false) {
  const broker = await fakeBroker(offline);
  const clock = new FakeClock(Date.now());
  const log = memoryLogger();
  const announcer = new MqttAnnouncer({
    url: broker.url,
    topicPrefix: "iota",
    group: "room2-lights",
    device: "test-device-123",
    version: "test",
    connect: (url, options) => mqtt.connect(url, options),
    clock,
    random: () => 0.5,
    log,
    renewing,
    backoff: { minDelay: 60_000, maxDelay: 60_000 },
  });
  announcer.use(ANNOUNCED_IDENTITY);
  await eventually(() => announcer.status().state === "connected", "the connection");
  return { broker, clock, log, announcer };
}

test("an acknowledged offline message is logged as announced", async () => {
  const { broker, log, announcer } = await connected("puback");
  await announcer.stop();
  expect(broker.published.at(-1)).toContain('"offline"');
  expect(log.lines).toContain(
    "info mqtt: announced offline on iota/room2-lights/test-device-123/status",
  );
  expect(announcer.status().state).toBe("closed");
});

test("a connection that closes under the offline message ends the stop at once and says it was not announced", async () => {
  const { broker, log, announcer } = await connected("close");
  // The fake clock never moves: only the closed connection can end the wait.
  await announcer.stop();
  expect(broker.published.at(-1)).toContain('"offline"');
  expect(log.lines).toContain(
    "warn mqtt: could not announce offline on iota/room2-lights/test-device-123/status: the connection to the broker closed",
  );
  expect(log.lines.join("\n")).not.toContain("announced offline");
});

test("a broker that does not answer the offline message is given 5 s, then the agent says so and leaves", async () => {
  const { broker, clock, log, announcer } = await connected("silence");
  let stopped = false;
  const stopping = announcer.stop().then(() => (stopped = true));
  await eventually(
    () => broker.published.some((p) => p.includes('"offline"')),
    "the offline publish",
  );
  clock.advance(4_999);
  await Bun.sleep(50);
  expect(stopped).toBe(false);
  clock.advance(1);
  await stopping;
  expect(log.lines).toContain(
    "warn mqtt: could not announce offline on iota/room2-lights/test-device-123/status: no answer from the broker in 5 s",
  );
  expect(log.lines.join("\n")).not.toContain("announced offline");
});

test("a session the broker ends while the agent renews is logged as expected, any other as lost", async () => {
  for (const renewing of [true, false]) {
    const { broker, log, announcer } = await connected("puback", () => renewing);
    for (const socket of broker.sockets) socket.destroy();
    await eventually(() => announcer.status().state === "reconnecting", "the reconnection");
    const expected = renewing
      ? "info mqtt: the broker ended the session of the certificate being renewed; reconnecting"
      : "warn mqtt: connection lost";
    expect(log.lines).toContain(expected);
    expect(log.lines.filter((line) => line.startsWith("warn"))).toEqual(
      renewing ? [] : ["warn mqtt: connection lost"],
    );
    await announcer.stop();
  }
});

test("a certificate the service refused for good is withdrawn: offline announced, no reconnection until a new certificate", async () => {
  const { broker, clock, log, announcer } = await connected("puback");
  // Another serial than the one in use changes nothing.
  await announcer.withdraw("not-in-use");
  expect(announcer.status().state).toBe("connected");
  await announcer.withdraw(ANNOUNCED_IDENTITY.serial);
  expect(broker.published.at(-1)).toContain('"offline"');
  expect(log.lines).toContain(
    `info mqtt: the service refused certificate ${ANNOUNCED_IDENTITY.serial}; announced offline on iota/room2-lights/test-device-123/status`,
  );
  expect(announcer.status()).toMatchObject({ state: "waiting", lastError: null });
  const connections = broker.sockets.length;
  clock.advance(10 * 60_000);
  await Bun.sleep(100);
  expect(broker.sockets.length).toBe(connections);
  expect(announcer.status().state).toBe("waiting");
  // A new certificate (provisioned after an operator's reset) connects and announces again.
  announcer.use({ ...ANNOUNCED_IDENTITY, serial: "c3" });
  await eventually(() => announcer.status().state === "connected", "the new connection");
  expect(broker.published.at(-1)).toContain('"serial":"c3"');
  await announcer.stop();
});

test("the broker URL in logs and status keeps nothing of a user and password, an @ in the password included", () => {
  expect(redactUrl("mqtts://u:p@ss@broker.example:8883")).toBe("mqtts://***@broker.example:8883");
  expect(redactUrl("wss://u:secret@broker.example/mqtt?x=@")).toBe(
    "wss://***@broker.example/mqtt?x=@",
  );
  expect(redactUrl("mqtts://broker.example:8883/a@b")).toBe("mqtts://broker.example:8883/a@b");
});
