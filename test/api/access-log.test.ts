import { describe, expect, test } from "bun:test";
import { requestSource, type PeerSource } from "../../src/iota-server/http/access-log.ts";
import {
  createGroup,
  createDevices,
  createTestService,
  deviceCsr,
} from "../helpers/test-service.ts";

const peer = (address: string): PeerSource => ({ requestIP: () => ({ address }) });
const req = (forwardedFor?: string) =>
  new Request(
    "http://iota.test/v1/provision",
    forwardedFor ? { headers: { "x-forwarded-for": forwardedFor } } : {},
  );
const LB = new Set(["10.0.0.2", "10.0.0.3"]);

describe("requestSource", () => {
  test("is the socket peer, and 'local' in-process", () => {
    expect(requestSource(peer("192.0.2.7"), req())).toBe("192.0.2.7");
    expect(requestSource(undefined, req())).toBe("local");
    expect(requestSource(peer("::ffff:192.0.2.7"), req())).toBe("192.0.2.7");
  });

  test("ignores X-Forwarded-For from a peer that is not a trusted proxy", () => {
    expect(requestSource(peer("192.0.2.7"), req("198.51.100.1"), LB)).toBe("192.0.2.7");
    expect(requestSource(peer("192.0.2.7"), req("198.51.100.1"))).toBe("192.0.2.7");
  });

  test("behind trusted proxies, counts the right-most address that is not one of them", () => {
    expect(requestSource(peer("10.0.0.2"), req("198.51.100.1"), LB)).toBe("198.51.100.1");
    // A client's own forged entries stand left of what the proxies appended, so they are never reached.
    expect(requestSource(peer("10.0.0.2"), req("203.0.113.9, 198.51.100.1, 10.0.0.3"), LB)).toBe(
      "198.51.100.1",
    );
    expect(requestSource(peer("::ffff:10.0.0.2"), req("::ffff:198.51.100.1"), LB)).toBe(
      "198.51.100.1",
    );
    // A forwarded IPv6 client is counted per /64 as a direct one is.
    expect(requestSource(peer("10.0.0.2"), req("2001:db8:7:8::5"), LB)).toBe("2001:db8:7:8::/64");
    // A trusted proxy that sent no header is itself the source.
    expect(requestSource(peer("10.0.0.2"), req(), LB)).toBe("10.0.0.2");
  });
});

test("provision rate limits count each client behind a trusted load balancer separately", async () => {
  const svc = await createTestService({
    issueRate: { rate: 0.001, burst: 1 },
    trustedProxies: ["10.0.0.2"],
  });
  const secret = await createGroup(svc, "g");
  await createDevices(svc, "g", ["a", "b", "c"]);
  const provision = async (device: string, forwardedFor: string) => {
    const body = JSON.stringify({ group: "g", device, csr: (await deviceCsr(device)).csr, secret });
    const init = {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
      body,
    };
    return (await svc.app.request("/v1/provision", init, peer("10.0.0.2"))).status;
  };
  expect(await provision("a", "198.51.100.1")).toBe(201);
  expect(await provision("b", "198.51.100.2")).toBe(201);
  expect(await provision("c", "198.51.100.1")).toBe(429);
});

test("provision rate limits count IPv6 clients per /64, and IPv4-mapped addresses as their IPv4 address", async () => {
  const svc = await createTestService({ issueRate: { rate: 0.001, burst: 1 } });
  const secret = await createGroup(svc, "g");
  const names = ["a", "b", "c", "d", "e"];
  await createDevices(svc, "g", names);
  const provision = async (device: string, address: string) => {
    const body = JSON.stringify({ group: "g", device, csr: (await deviceCsr(device)).csr, secret });
    const init = { method: "POST", headers: { "content-type": "application/json" }, body };
    return (await svc.app.request("/v1/provision", init, peer(address))).status;
  };
  expect(await provision("a", "2001:db8:1:2::1")).toBe(201);
  // Another address of the same /64 shares its budget; an address of the next /64 has its own.
  expect(await provision("b", "2001:db8:1:2:ffff::99")).toBe(429);
  expect(await provision("b", "2001:db8:1:3::1")).toBe(201);
  expect(await provision("c", "198.51.100.1")).toBe(201);
  // 198.51.100.1 written as an IPv4-mapped IPv6 address in hexadecimal.
  expect(await provision("d", "::ffff:c633:6401")).toBe(429);
  expect(await provision("d", "::ffff:c633:6402")).toBe(201);
});
