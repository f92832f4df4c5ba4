import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { DeviceFieldSchema, parseDeviceSource } from "./device-source.ts";

describe("device sources", () => {
  test.each([
    ["file:/etc/machine-id", { kind: "file", path: "/etc/machine-id" }],
    ["file:serial.txt", { kind: "file", path: "serial.txt" }],
    ["mac:eth0", { kind: "mac", iface: "eth0" }],
    ["mac:enp0s31f6", { kind: "mac", iface: "enp0s31f6" }],
    ["dmi:product_serial", { kind: "dmi", field: "product_serial" }],
    ["dmi:board_serial", { kind: "dmi", field: "board_serial" }],
  ])("%p", (from, source) => {
    expect(parseDeviceSource(from)).toEqual({ ok: true, source } as never);
  });

  test.each([
    ["command:cat /proc/cpuinfo", "not supported"],
    ["file:", "needs a path"],
    ["mac:", "interface name"],
    ["mac:../../etc", "interface name"],
    ["mac:a-very-long-interface-name", "interface name"],
    ["dmi:bios_version", "takes one of product_serial"],
    ["/etc/machine-id", "must be file:PATH"],
    ["serial:x", "must be file:PATH"],
  ])("refuses %p", (from, problem) => {
    const parsed = parseDeviceSource(from);
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.problem).toContain(problem);
  });

  test("the device field: a name, or a source with an optional prefix", () => {
    expect(v.parse(DeviceFieldSchema, "test-device-1")).toBe("test-device-1");
    expect(v.parse(DeviceFieldSchema, { from: "mac:eth0" })).toEqual({
      from: "mac:eth0",
      prefix: "",
    });
    const messages = (input: unknown) =>
      v.safeParse(DeviceFieldSchema, input).issues?.map((i) => i.message) ?? [];
    expect(messages("Bad_Name").join()).toContain("uppercase");
    expect(messages({ from: "command:hostname" }).join()).toContain("not supported");
    expect(messages({ from: "mac:eth0", prefix: "Dev" }).join()).toContain("a prefix is");
    expect(messages({ from: "mac:eth0", pattern: "x" }).join()).toContain("not a known field");
  });
});
