/** The embedded broker with real certificates from the service's CA and real mqtt.js clients over mutual TLS. */

import { afterEach, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import { connect as tlsConnect } from "node:tls";
import {
  closed,
  nextMessage,
  receivedBy,
  startBrokerFixture,
  type BrokerFixture,
  type DeviceCredentials,
} from "../helpers/broker-fixture.ts";

/** A raw MQTT 3.1.1 connection over mutual TLS, to send what mqtt.js would not (or not at that moment). */
interface RawMqtt {
  send(packet: Buffer): void;
  /** Resolves with the next packet received, whole (fixed header included). */
  next(): Promise<Buffer>;
  close(): void;
}

function rawMqtt(fixture: BrokerFixture, creds: DeviceCredentials): Promise<RawMqtt> {
  let buffered = Buffer.alloc(0);
  const waiting: ((packet: Buffer) => void)[] = [];
  const packets: Buffer[] = [];
  const drain = () => {
    for (;;) {
      let length = 0;
      let at = 1;
      for (let shift = 0; at < buffered.length; shift += 7) {
        const byte = buffered[at++] ?? 0;
        length += (byte & 0x7f) << shift;
        if (!(byte & 0x80)) break;
      }
      if (buffered.length < 2 || buffered.length < at + length) return;
      const packet = buffered.subarray(0, at + length);
      buffered = buffered.subarray(at + length);
      const waiter = waiting.shift();
      if (waiter) waiter(packet);
      else packets.push(packet);
    }
  };
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      {
        host: "127.0.0.1",
        port: fixture.broker.port,
        ca: fixture.broker.caPem,
        cert: creds.certPem,
        key: creds.keyPem,
      },
      () =>
        resolve({
          send: (packet) => socket.write(packet),
          next: () =>
            new Promise((done) => {
              const packet = packets.shift();
              if (packet) done(packet);
              else waiting.push(done);
            }),
          close: () => socket.destroy(),
        }),
    );
    socket.on("data", (data: Buffer) => {
      buffered = Buffer.concat([buffered, data]);
      drain();
    });
    socket.once("error", reject);
  });
}

/** A length-prefixed UTF-8 string, as MQTT writes one. */
const mqttString = (text: string) => {
  const bytes = Buffer.from(text, "utf8");
  return Buffer.concat([Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes]);
};
/** A packet of `type` (the first byte) with `body` (short bodies only: one length byte). */
const mqttPacket = (type: number, ...body: Buffer[]) => {
  const rest = Buffer.concat(body);
  return Buffer.concat([Buffer.from([type, rest.length]), rest]);
};
/** CONNECT, MQTT 3.1.1, keep-alive 60 s. */
const connectPacket = (clientId: string, clean: boolean) =>
  mqttPacket(
    0x10,
    mqttString("MQTT"),
    Buffer.from([4, clean ? 0x02 : 0x00, 0, 60]),
    mqttString(clientId),
  );
/** PUBLISH at QoS 2 with packet id `id`, flagged DUP when it is a retransmission. */
const qos2Publish = (topic: string, id: number, payload: string, dup: boolean) =>
  mqttPacket(dup ? 0x3c : 0x34, mqttString(topic), Buffer.from([0, id]), Buffer.from(payload));

/** Connects raw and resolves with the CONNACK's return code and session-present flag. */
async function rawConnect(
  fixture: BrokerFixture,
  creds: DeviceCredentials,
  clientId: string,
  clean: boolean,
): Promise<{ conn: RawMqtt; returnCode: number; sessionPresent: boolean }> {
  const conn = await rawMqtt(fixture, creds);
  conn.send(connectPacket(clientId, clean));
  const connack = await conn.next();
  if (connack[0] !== 0x20) throw new Error(`expected a CONNACK, got ${connack.toString("hex")}`);
  return { conn, returnCode: connack[3] ?? -1, sessionPresent: connack[2] === 1 };
}

let fixture: BrokerFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

describe("embedded broker", () => {
  test("serves a certificate from the server CA (not the tenant CA) for localhost and 127.0.0.1, for servers only", async () => {
    fixture = await startBrokerFixture();
    const lamp = await fixture.device("room2-lights", "lamp-1");
    const client = await fixture.connect(lamp);
    const tls = client.stream as unknown as { getPeerX509Certificate(): X509Certificate };
    const cert = tls.getPeerX509Certificate();
    const tenantCa = await (await fixture.svc.app.request("/v1/ca")).text();
    expect(fixture.broker.caPem).not.toBe(tenantCa);
    expect(cert.checkIssued(new X509Certificate(tenantCa))).toBe(false);
    expect(cert.checkIssued(new X509Certificate(fixture.broker.caPem))).toBe(true);
    expect(cert.subject).toContain("O=IoTA broker");
    expect(cert.subjectAltName).toContain("DNS:localhost");
    expect(cert.subjectAltName).toContain("IP Address:127.0.0.1");
    expect(cert.keyUsage).toContain("1.3.6.1.5.5.7.3.1");
    expect(cert.keyUsage).not.toContain("1.3.6.1.5.5.7.3.2");
    expect(fixture.broker.url).toBe(`mqtts://127.0.0.1:${fixture.broker.port}`);
  });

  test("a device publishes a retained status on its own topic and a monitor of its group sees it", async () => {
    fixture = await startBrokerFixture();
    const lamp = await fixture.device("room2-lights", "lamp-1");
    const monitorCreds = await fixture.device("room2-lights", "monitor");
    const device = await fixture.connect(lamp);
    await device.publishAsync(
      "iota/room2-lights/lamp-1/status",
      JSON.stringify({ state: "ready" }),
      { qos: 1, retain: true },
    );
    const monitor = await fixture.connect(monitorCreds);
    const seen = nextMessage(monitor, "iota/room2-lights/lamp-1/status");
    const granted = await monitor.subscribeAsync("iota/room2-lights/+/status", { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    expect(await seen).toEqual({ payload: '{"state":"ready"}', retain: true });
  });

  test("publishing on another device's topic closes the connection and reaches no subscriber", async () => {
    fixture = await startBrokerFixture();
    const intruderCreds = await fixture.device("room2-lights", "lamp-1");
    const victimCreds = await fixture.device("room2-lights", "lamp-2");
    const outsiderCreds = await fixture.device("other", "lamp-2");
    const monitor = await fixture.connect(victimCreds);
    await monitor.subscribeAsync(["iota/room2-lights/lamp-2/status"], { qos: 1 });
    const first = nextMessage(monitor, "iota/room2-lights/lamp-2/status");

    const intruder = await fixture.connect(intruderCreds);
    const intruderClosed = closed(intruder);
    intruder.publish("iota/room2-lights/lamp-2/status", '{"state":"forged"}', { qos: 1 });
    await intruderClosed;
    // A device of the same name in another group is another device too.
    const outsider = await fixture.connect(outsiderCreds);
    const outsiderClosed = closed(outsider);
    outsider.publish("iota/room2-lights/lamp-2/status", '{"state":"forged"}', { qos: 1 });
    await outsiderClosed;

    // Hint: the broker handles one client's packets in order, so the first message the monitor sees is this one.
    await monitor.publishAsync("iota/room2-lights/lamp-2/status", '{"state":"genuine"}', {
      qos: 1,
    });
    expect((await first).payload).toBe('{"state":"genuine"}');
    expect(fixture.svc.log.lines.join("\n")).toContain(
      'room2-lights/lamp-1 may not publish on "iota/room2-lights/lamp-2/status"',
    );
  });

  test("subscriptions outside the device's subtree and its group's status topics are refused", async () => {
    fixture = await startBrokerFixture();
    const lamp = await fixture.device("room2-lights", "lamp-1");
    await fixture.device("other", "x");
    const client = await fixture.connect(lamp);
    const refused = ["#", "iota/#", "iota/room2-lights/lamp-2/#", "iota/other/+/status", "$SYS/#"];
    // Hint: mqtt.js rejects a SUBACK holding failures and attaches the packet.
    const error = (await client.subscribeAsync(refused, { qos: 1 }).catch((e: unknown) => e)) as {
      packet?: { granted: number[] };
    };
    expect(error.packet?.granted).toEqual(refused.map(() => 128));
    expect(client.connected).toBe(true);
    const allowed = await client.subscribeAsync(
      ["iota/room2-lights/lamp-1/#", "iota/room2-lights/lamp-9/status"],
      { qos: 1 },
    );
    expect(allowed.map((g) => g.qos)).toEqual([1, 1]);
  });

  test("a client without a certificate is refused at TLS", async () => {
    fixture = await startBrokerFixture();
    await expect(fixture.connect(undefined)).rejects.toThrow(/certificate/i);
    expect(fixture.svc.log.lines.join("\n")).toMatch(/TLS refused .*CERTIFICATE/);
  });

  test("a certificate from another IoTA service's CA is refused at TLS", async () => {
    fixture = await startBrokerFixture();
    const other = await startBrokerFixture();
    try {
      const foreign = await other.device("room2-lights", "lamp-1");
      await expect(fixture.connect(foreign)).rejects.toThrow();
      expect(fixture.svc.log.lines.join("\n")).toMatch(/TLS refused/);
      expect(fixture.svc.log.lines.join("\n")).not.toContain("connected (serial");
    } finally {
      await other.close();
    }
  });

  test("a revoked device cannot connect, and a connected one is dropped after revocation", async () => {
    fixture = await startBrokerFixture();
    const lamp = await fixture.device("room2-lights", "lamp-1");
    const live = await fixture.connect(lamp);
    const dropped = closed(live);
    const res = await fixture.svc.call("POST", "/v1/groups/room2-lights/devices/lamp-1/revoke");
    expect(res.status).toBe(200);
    await dropped;
    expect(fixture.svc.log.lines.join("\n")).toContain(
      "disconnecting room2-lights/lamp-1: certificate of room2-lights/lamp-1",
    );
    await expect(fixture.connect(lamp)).rejects.toThrow(/Not authorized/i);
    expect(fixture.svc.log.lines.join("\n")).toMatch(
      /refused .*room2-lights\/lamp-1 .* is revoked/,
    );
  });

  test("a session checked quietly for a while is still dropped when its device is revoked later", async () => {
    fixture = await startBrokerFixture();
    const lamp = await fixture.device("room2-lights", "lamp-1");
    const live = await fixture.connect(lamp);
    // Several re-check rounds (every 50 ms here) pass with nothing revoked before the revocation comes.
    await Bun.sleep(300);
    expect(live.connected).toBe(true);
    const dropped = closed(live);
    expect(
      (await fixture.svc.call("POST", "/v1/groups/room2-lights/devices/lamp-1/revoke")).status,
    ).toBe(200);
    await dropped;
    expect(fixture.svc.log.lines.join("\n")).toContain(
      "disconnecting room2-lights/lamp-1: certificate of room2-lights/lamp-1",
    );
  });

  test("a device whose certificate expired while connected is disconnected", async () => {
    fixture = await startBrokerFixture();
    const lamp = await fixture.device("room2-lights", "lamp-1");
    const live = await fixture.connect(lamp);
    const dropped = closed(live);
    fixture.svc.clock.advance(31 * 86400_000);
    await dropped;
    expect(fixture.svc.log.lines.join("\n")).toContain(
      "disconnecting room2-lights/lamp-1: certificate of room2-lights/lamp-1 (serial",
    );
    expect(fixture.svc.log.lines.join("\n")).toContain("has expired");
  });

  test("the last will is published, retained, when a device dies without disconnecting", async () => {
    fixture = await startBrokerFixture();
    const lamp = await fixture.device("room2-lights", "lamp-1");
    const monitorCreds = await fixture.device("room2-lights", "monitor");
    const topic = "iota/room2-lights/lamp-1/status";
    const device = await fixture.connect(lamp, {
      will: { topic, payload: Buffer.from('{"state":"offline"}'), qos: 1, retain: true },
    });
    await device.publishAsync(topic, '{"state":"ready"}', { qos: 1, retain: true });
    const monitor = await fixture.connect(monitorCreds);
    const ready = nextMessage(monitor, topic);
    await monitor.subscribeAsync(topic, { qos: 1 });
    expect((await ready).payload).toBe('{"state":"ready"}');
    const offline = nextMessage(monitor, topic);
    device.stream.destroy();
    expect((await offline).payload).toBe('{"state":"offline"}');
    // An empty client id with a clean session: the broker assigns one, so the monitor can connect twice.
    const late = await fixture.connect(monitorCreds, { clientId: "", clean: true });
    const retained = nextMessage(late, topic);
    await late.subscribeAsync(topic, { qos: 1 });
    expect(await retained).toEqual({ payload: '{"state":"offline"}', retain: true });
  });

  test("a device cannot connect under another device's client id, persistent or not, nor disturb that device", async () => {
    fixture = await startBrokerFixture();
    const a = await fixture.device("room2-lights", "lamp-1");
    const b = await fixture.device("room2-lights", "lamp-2");
    const other = await fixture.device("other", "lamp-2");
    const taken = "room2-lights/lamp-2";
    for (const [clientId, clean] of [
      [taken, false],
      [taken, true],
      ["lamp-2", false],
      ["anything", true],
    ] as const) {
      await expect(fixture.connect(a, { clientId, clean })).rejects.toThrow(/Identifier rejected/i);
    }
    // The same device name in another group is another device, with another client id.
    await expect(fixture.connect(other, { clientId: taken, clean: false })).rejects.toThrow(
      /Identifier rejected/i,
    );
    expect(fixture.svc.log.lines.join("\n")).toContain(
      `room2-lights/lamp-1: client id "${taken}" is not the device's own: a device connects as "room2-lights/lamp-1"`,
    );
    // The device whose id was tried gets a fresh session, and keeps it while A tries again.
    const { client: owner, sessionPresent } = await fixture.connectSession(b, { clean: false });
    expect(sessionPresent).toBe(false);
    await expect(fixture.connect(a, { clientId: taken, clean: false })).rejects.toThrow(
      /Identifier rejected/i,
    );
    await owner.publishAsync("iota/room2-lights/lamp-2/status", "{}", { qos: 1 });
    expect(owner.connected).toBe(true);
    expect(fixture.svc.log.lines.join("\n")).not.toMatch(
      /lamp-1 connected|other\/lamp-2 connected/,
    );
  });

  test("after the device that tried another's client id is revoked, that other device still connects with its session", async () => {
    fixture = await startBrokerFixture();
    const a = await fixture.device("room2-lights", "lamp-1");
    const b = await fixture.device("room2-lights", "lamp-2");
    await expect(
      fixture.connect(a, { clientId: "room2-lights/lamp-2", clean: false }),
    ).rejects.toThrow(/Identifier rejected/i);
    expect(
      (await fixture.svc.call("POST", "/v1/groups/room2-lights/devices/lamp-1/revoke")).status,
    ).toBe(200);
    const first = await fixture.connectSession(b, { clean: false });
    expect(first.sessionPresent).toBe(false);
    await first.client.subscribeAsync("iota/room2-lights/+/status", { qos: 1 });
    await first.client.endAsync();
    const again = await fixture.connectSession(b, { clean: false });
    expect(again.sessionPresent).toBe(true);
  });

  test("the same device reconnecting with a persistent session gets it back, with what was queued while it was away", async () => {
    fixture = await startBrokerFixture();
    const lamp = await fixture.device("room2-lights", "lamp-1");
    const monitorCreds = await fixture.device("room2-lights", "monitor");
    const first = await fixture.connectSession(monitorCreds, { clean: false });
    expect(first.sessionPresent).toBe(false);
    await first.client.subscribeAsync("iota/room2-lights/+/status", { qos: 1 });
    await first.client.endAsync();
    const device = await fixture.connect(lamp);
    await device.publishAsync("iota/room2-lights/lamp-1/status", '{"state":"ready"}', { qos: 1 });
    const back = await fixture.connectSession(monitorCreds, { clean: false });
    expect(back.sessionPresent).toBe(true);
    while (receivedBy(back.client).length === 0) await Bun.sleep(10);
    expect(receivedBy(back.client)).toEqual([
      { topic: "iota/room2-lights/lamp-1/status", payload: '{"state":"ready"}', retain: false },
    ]);
    // A second connection of the same device takes its session over; the first one is closed.
    const firstClosed = closed(back.client);
    const takeover = await fixture.connectSession(monitorCreds, { clean: false });
    expect(takeover.sessionPresent).toBe(true);
    await firstClosed;
    expect(takeover.client.connected).toBe(true);
  });

  test("an empty client id is accepted with a clean session only", async () => {
    fixture = await startBrokerFixture();
    const lamp = await fixture.device("room2-lights", "lamp-1");
    const twice = [
      await fixture.connect(lamp, { clientId: "", clean: true }),
      await fixture.connect(lamp, { clientId: "", clean: true }),
    ];
    expect(twice.map((c) => c.connected)).toEqual([true, true]);
    // Hint: mqtt.js refuses to send an empty id without a clean session; a raw CONNECT shows the broker's answer.
    const refused = await rawConnect(fixture, lamp, "", false);
    refused.conn.close();
    expect(refused.returnCode).toBe(2);
    expect(fixture.svc.log.lines.join("\n")).toContain("an empty client id needs a clean session");
  });

  test("a refused connection under a device's client id leaves that device's in-flight QoS 2 state alone", async () => {
    fixture = await startBrokerFixture();
    const a = await fixture.device("room2-lights", "lamp-1");
    const b = await fixture.device("room2-lights", "lamp-2");
    const monitor = await fixture.connect(await fixture.device("room2-lights", "monitor"));
    const topic = "iota/room2-lights/lamp-2/status";
    await monitor.subscribeAsync(topic, { qos: 2 });
    // B publishes at QoS 2 and its connection drops before it could release the message (PUBREL).
    const first = await rawConnect(fixture, b, "room2-lights/lamp-2", false);
    expect(first.returnCode).toBe(0);
    first.conn.send(qos2Publish(topic, 7, "once", false));
    expect((await first.conn.next())[0]).toBe(0x50);
    first.conn.close();
    // A tries B's client id with a clean session and is refused.
    const intruder = await rawConnect(fixture, a, "room2-lights/lamp-2", true);
    intruder.conn.close();
    expect(intruder.returnCode).toBe(2);
    // B resumes and retransmits, as MQTT asks: the broker still knows packet 7 and does not deliver it twice.
    const again = await rawConnect(fixture, b, "room2-lights/lamp-2", false);
    expect(again.returnCode).toBe(0);
    again.conn.send(qos2Publish(topic, 7, "once", true));
    expect((await again.conn.next())[0]).toBe(0x50);
    again.conn.send(mqttPacket(0x62, Buffer.from([0, 7])));
    expect((await again.conn.next())[0]).toBe(0x70);
    // Hint: the broker forwards one client's publishes in order, so the marker comes after any duplicate.
    again.conn.send(mqttPacket(0x30, mqttString(topic), Buffer.from("marker")));
    while (!receivedBy(monitor).some((m) => m.payload === "marker")) await Bun.sleep(10);
    again.conn.close();
    expect(receivedBy(monitor).map((m) => m.payload)).toEqual(["once", "marker"]);
  });
});
