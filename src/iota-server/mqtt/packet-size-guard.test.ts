import { describe, expect, test } from "bun:test";
import { PacketSizeGuard } from "./packet-size-guard.ts";

/** A PUBLISH-shaped packet: type byte, MQTT remaining length, body. */
function packet(bodyLength: number): Uint8Array {
  const length: number[] = [];
  let rest = bodyLength;
  do {
    let byte = rest % 128;
    rest = Math.floor(rest / 128);
    if (rest > 0) byte |= 0x80;
    length.push(byte);
  } while (rest > 0);
  return new Uint8Array([0x30, ...length, ...new Array(bodyLength).fill(7)]);
}

describe("PacketSizeGuard", () => {
  test("packets up to the limit pass, in one chunk or split anywhere, header bytes included", () => {
    const stream = new Uint8Array([...packet(0), ...packet(127), ...packet(128), ...packet(1000)]);
    expect(new PacketSizeGuard(1000).check(stream)).toBeUndefined();
    for (let size = 1; size <= 7; size++) {
      const guard = new PacketSizeGuard(1000);
      for (let at = 0; at < stream.length; at += size)
        expect(guard.check(stream.subarray(at, at + size))).toBeUndefined();
    }
  });

  test("a packet over the limit is reported at its length bytes, before its body arrives", () => {
    const guard = new PacketSizeGuard(1000);
    expect(guard.check(packet(10))).toBeUndefined();
    // Hint: the largest length MQTT can announce, 268,435,455 bytes: only its fixed header is sent.
    const big = new Uint8Array([0x30, 0xff, 0xff, 0xff, 0x7f]);
    expect(guard.check(big.subarray(0, 3))).toBeUndefined();
    expect(guard.check(big.subarray(3))).toBe(268_435_455);
    expect(new PacketSizeGuard(1000).check(packet(1001).subarray(0, 3))).toBe(1001);
  });
});
