/** The embedded broker accepts only a device's current certificate: the one a renewal replaced is refused. */

import { afterEach, describe, expect, test } from "bun:test";
import { closed, startBrokerFixture, type BrokerFixture } from "../helpers/broker-fixture.ts";
import {
  createDevices,
  createGroup,
  deviceCsr,
  postJson,
  provisionDevice,
  type IssuedAnswer,
} from "../helpers/test-service.ts";
import { exportPrivateKeyPem } from "../../src/core/csr.ts";
import { signRenewProof } from "../../src/core/renew-proof.ts";

let fixture: BrokerFixture | undefined;
afterEach(async () => {
  await fixture?.close();
  fixture = undefined;
});

/** A device's credentials before and after one renewal through POST /v1/renew, as iotad renews. */
async function provisionAndRenew(f: BrokerFixture, group: string, device: string) {
  const secret = await createGroup(f.svc, group);
  await createDevices(f.svc, group, [device, "other"]);
  const first = await provisionDevice(f.svc, group, device, secret);
  // Hint: a device with a certificate, whose revocation moves the tenant's revocation counter.
  await provisionDevice(f.svc, group, "other", secret);
  const old = {
    group,
    device,
    certPem: first.issued.certificate,
    keyPem: await exportPrivateKeyPem(first.keys.privateKey),
    serial: first.issued.serial,
  };
  const renew = async () => {
    const next = await deviceCsr(device);
    const proof = await signRenewProof(
      first.keys.privateKey,
      first.issued.serial,
      next.csr,
      new Date(f.svc.clock.now),
    );
    const res = await postJson(f.svc, "/v1/renew", { certificate: old.certPem, ...proof });
    if (res.status !== 201) throw new Error(`renewing: ${res.status} ${await res.text()}`);
    const issued = (await res.json()) as IssuedAnswer;
    return {
      group,
      device,
      certPem: issued.certificate,
      keyPem: await exportPrivateKeyPem(next.keys.privateKey),
      serial: issued.serial,
    };
  };
  return { old, renew };
}

describe("embedded broker and renewal", () => {
  test("after a renewal the replaced certificate is refused (not authorized) and the new one connects", async () => {
    fixture = await startBrokerFixture();
    const { old, renew } = await provisionAndRenew(fixture, "room2-lights", "lamp-1");
    // Before the renewal the certificate is the device's current one and connects.
    await (await fixture.connect(old)).endAsync();
    const renewed = await renew();
    expect(renewed.serial).not.toBe(old.serial);
    await expect(fixture.connect(old)).rejects.toThrow(/Not authorized/i);
    await expect(fixture.connect(old, { clientId: "", clean: true })).rejects.toThrow(
      /Not authorized/i,
    );
    expect(fixture.svc.log.lines.join("\n")).toContain(
      `certificate ${old.serial} was replaced by ${renewed.serial}: only the current certificate of room2-lights/lamp-1 may connect`,
    );
    const client = await fixture.connect(renewed);
    expect(client.connected).toBe(true);
    expect(fixture.svc.log.lines.join("\n")).toContain(
      `room2-lights/lamp-1 connected (serial ${renewed.serial})`,
    );
  });

  test("a session held with the replaced certificate ends the moment this process records the renewal", async () => {
    // Hint: no periodic re-check during this test: only the renewal itself can end the session.
    fixture = await startBrokerFixture({ recheckMs: 600_000 });
    const { old, renew } = await provisionAndRenew(fixture, "room2-lights", "lamp-1");
    const copy = await fixture.connect(old, { clientId: "", clean: true });
    const dropped = closed(copy);
    const renewed = await renew();
    await dropped;
    expect(fixture.svc.log.lines.join("\n")).toContain(
      `disconnecting room2-lights/lamp-1: certificate ${old.serial} was replaced by ${renewed.serial}`,
    );
    expect((await fixture.connect(renewed)).connected).toBe(true);
  });

  test("a session still held with a certificate another replica replaced is dropped by the next store re-check; the new one stays", async () => {
    fixture = await startBrokerFixture();
    const { old, renew } = await provisionAndRenew(fixture, "room2-lights", "lamp-1");
    // Hint: an empty client id, so the device's own reconnection (same client id) does not end this session.
    const copy = await fixture.connect(old, { clientId: "", clean: true });
    // Hint: a renewal on another replica: this process hears nothing of it, only the store knows.
    delete fixture.svc.ctx.events;
    const renewed = await renew();
    const device = await fixture.connect(renewed);
    const dropped = closed(copy);
    // Hint: the broker looks sessions up in the store when a revocation moved the tenant's CRL number (see
    // docs/mosquitto.md on why a renewal does not); revoking another device of the tenant moves it.
    const res = await fixture.svc.call("POST", "/v1/groups/room2-lights/devices/other/revoke");
    expect(res.status).toBe(200);
    await dropped;
    expect(fixture.svc.log.lines.join("\n")).toContain(
      `disconnecting room2-lights/lamp-1: certificate ${old.serial} was replaced by ${renewed.serial}`,
    );
    expect(device.connected).toBe(true);
  });
});
