/** The embedded broker with real certificates from the service's CA and real mqtt.js clients over mutual TLS. */

import { afterEach, describe, expect, test } from "bun:test";
import { X509Certificate } from "node:crypto";
import {
  closed,
  nextMessage,
  startBrokerFixture,
  type BrokerFixture,
} from "../helpers/broker-fixture.ts";

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
    const late = await fixture.connect(monitorCreds, { clientId: "late-monitor" });
    const retained = nextMessage(late, topic);
    await late.subscribeAsync(topic, { qos: 1 });
    expect(await retained).toEqual({ payload: '{"state":"offline"}', retain: true });
  });

  test("one device cannot take over the session of another device's client id", async () => {
    fixture = await startBrokerFixture();
    const a = await fixture.device("room2-lights", "lamp-1");
    const b = await fixture.device("room2-lights", "lamp-2");
    const first = await fixture.connect(a, { clientId: "lamp-1" });
    await expect(fixture.connect(b, { clientId: "lamp-1" })).rejects.toThrow(
      /Identifier rejected/i,
    );
    expect(first.connected).toBe(true);
  });
});
