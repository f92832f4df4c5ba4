import { describe, expect, test } from "bun:test";
import { deviceTopicPolicy } from "./topic-policy.ts";

const me = { tenant: "default", group: "room2-lights", device: "lamp-1" };
const policy = deviceTopicPolicy("iota");

describe("device topic policy", () => {
  test.each([
    ["iota/room2-lights/lamp-1/status", true],
    ["iota/room2-lights/lamp-1", true],
    ["iota/room2-lights/lamp-1/telemetry/temp", true],
    ["iota/room2-lights/lamp-2/status", false],
    ["iota/room2-lights/lamp-10/status", false],
    ["iota/other-group/lamp-1/status", false],
    ["acme/room2-lights/lamp-1/status", false],
    ["iota/room2-lights", false],
    ["$SYS/broker/load", false],
    ["iota/room2-lights/lamp-1/+", false],
  ])("publish on %p → %p", (topic, allowed) => {
    expect(policy.mayPublish(me, topic)).toBe(allowed);
  });

  test.each([
    ["iota/room2-lights/lamp-1/#", true],
    ["iota/room2-lights/lamp-1/status", true],
    ["iota/room2-lights/lamp-1/+/x", true],
    ["iota/room2-lights/+/status", true],
    ["iota/room2-lights/lamp-2/status", true],
    ["iota/room2-lights/lamp-2/#", false],
    ["iota/room2-lights/+/telemetry", false],
    ["iota/room2-lights/+/status/#", false],
    ["iota/room2-lights/#", false],
    ["iota/+/lamp-1/status", false],
    ["iota/other-group/+/status", false],
    ["iota/#", false],
    ["#", false],
    ["+/room2-lights/lamp-1/status", false],
    ["$SYS/#", false],
    ["$share/x/iota/room2-lights/lamp-1/#", false],
  ])("subscribe to %p → %p", (filter, allowed) => {
    expect(policy.maySubscribe(me, filter)).toBe(allowed);
  });

  test("a prefix of several levels is matched level by level", () => {
    const acme = deviceTopicPolicy("acme/iota");
    expect(acme.mayPublish(me, "acme/iota/room2-lights/lamp-1/status")).toBe(true);
    expect(acme.mayPublish(me, "iota/room2-lights/lamp-1/status")).toBe(false);
    expect(acme.maySubscribe(me, "acme/iota/room2-lights/+/status")).toBe(true);
    expect(acme.maySubscribe(me, "acme/+/room2-lights/+/status")).toBe(false);
  });
});
