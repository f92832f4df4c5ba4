/** Rate-limit keys: IPv4 per address, IPv4-mapped IPv6 as IPv4, other IPv6 per /64. */

import { describe, expect, test } from "bun:test";
import { sourceKey } from "./source-key.ts";

describe("sourceKey", () => {
  test("counts IPv4 per address", () => {
    expect(sourceKey("192.0.2.7")).toBe("192.0.2.7");
    expect(sourceKey("192.0.2.8")).not.toBe(sourceKey("192.0.2.7"));
  });

  test("counts two IPv6 addresses of one /64 as one source, in any spelling", () => {
    const key = sourceKey("2001:db8:1:2::1");
    expect(key).toBe("2001:db8:1:2::/64");
    expect(sourceKey("2001:db8:1:2:ffff:ffff:ffff:fffe")).toBe(key);
    expect(sourceKey("2001:0DB8:0001:0002:0000:0000:0000:0009")).toBe(key);
    expect(sourceKey("fe80::1%eth0")).toBe(sourceKey("fe80::2"));
    expect(sourceKey("2001:db8::1")).toBe("2001:db8::/64");
    expect(sourceKey("2001:db8:0:0:1::")).toBe("2001:db8::/64");
    expect(sourceKey("::1")).toBe("::/64");
  });

  test("counts addresses of different /64s apart", () => {
    expect(sourceKey("2001:db8:1:3::1")).not.toBe(sourceKey("2001:db8:1:2::1"));
    expect(sourceKey("2001:db8:1:20::1")).not.toBe(sourceKey("2001:db8:1:2::1"));
    expect(sourceKey("2001:db8:0:1::1")).toBe("2001:db8:0:1::/64");
    expect(sourceKey("2001:db8:0:1::1")).not.toBe(sourceKey("2001:db8::1"));
  });

  test("counts IPv4-mapped IPv6 addresses as their IPv4 address", () => {
    expect(sourceKey("::ffff:1.2.3.4")).toBe("1.2.3.4");
    expect(sourceKey("::ffff:102:304")).toBe("1.2.3.4");
    expect(sourceKey("0:0:0:0:0:FFFF:0102:0304")).toBe("1.2.3.4");
    // Not mapped: the NAT64 prefix and an IPv4-compatible address are IPv6 prefixes like any other.
    expect(sourceKey("64:ff9b::1.2.3.4")).toBe("64:ff9b::/64");
  });

  test("keeps text that is no address as its own key", () => {
    for (const text of [
      "local",
      "",
      "1:2:3",
      "1::2::3",
      "1:2:3:4:5:6:7:8:9",
      "::ffff:1.2.3.256",
      "g::1",
    ])
      expect(sourceKey(text)).toBe(text);
  });
});
