/** The back-to-front DER writer writes the same bytes as joining TLVs front to back. */

import { describe, expect, test } from "bun:test";
import { DerWriter } from "./der-writer.ts";
import { TAG, tlv } from "./der.ts";

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex");

describe("DerWriter", () => {
  test("nested TLVs, short and long lengths, equal tlv()", () => {
    for (const size of [0, 1, 127, 128, 255, 256, 300, 65535, 65536]) {
      const inner = new Uint8Array(size).fill(7);
      const w = new DerWriter(16);
      const outer = w.mark();
      const octets = w.mark();
      w.bytes(inner).wrap(TAG.OCTET_STRING, octets);
      w.byte(0x05).byte(0x00);
      w.wrap(TAG.SEQUENCE, outer);
      const expected = tlv(TAG.SEQUENCE, Uint8Array.of(0x00, 0x05), tlv(TAG.OCTET_STRING, inner));
      expect(hex(w.view())).toBe(hex(expected));
    }
  });

  test("text is UTF-8, digits are two ASCII characters, reset starts over", () => {
    const w = new DerWriter(4);
    const m = w.mark();
    w.text("gerät").twoDigits(7).twoDigits(49);
    w.wrap(TAG.UTF8_STRING, m);
    expect(Buffer.from(w.view().subarray(2)).toString("utf8")).toBe("4907gerät");
    expect(w.view()[1]).toBe(Buffer.byteLength("4907gerät"));
    w.reset();
    w.text("ab");
    expect(hex(w.view())).toBe("6162");
  });
});
