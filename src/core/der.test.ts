/** The DER helpers: lengths, integers, times, signature conversion, and refusal of malformed input. */

import { describe, expect, test } from "bun:test";
import { randomBytes } from "node:crypto";
import {
  DerError,
  TAG,
  certificateTime,
  derToP1363,
  p1363ToDer,
  readTlv,
  tlv,
  unsignedInteger,
} from "./der.ts";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, "hex"));

describe("DER writing", () => {
  test("lengths use the short form below 128 and the minimal long form above", () => {
    expect(hex(tlv(TAG.OCTET_STRING, new Uint8Array(127))).slice(0, 4)).toBe("047f");
    expect(hex(tlv(TAG.OCTET_STRING, new Uint8Array(128))).slice(0, 6)).toBe("048180");
    expect(hex(tlv(TAG.OCTET_STRING, new Uint8Array(300))).slice(0, 8)).toBe("0482012c");
  });

  test("integers are minimal and positive", () => {
    expect(hex(unsignedInteger(bytes("0000ff")))).toBe("020200ff");
    expect(hex(unsignedInteger(bytes("007f")))).toBe("02017f");
    expect(hex(unsignedInteger(bytes("00")))).toBe("020100");
  });

  test("times switch from UTCTime to GeneralizedTime in 2050", () => {
    expect(
      Buffer.from(certificateTime(Date.UTC(2049, 11, 31, 23, 59, 59))).toString("latin1"),
    ).toBe("\x17\x0d491231235959Z");
    expect(Buffer.from(certificateTime(Date.UTC(2050, 0, 1))).toString("latin1")).toBe(
      "\x18\x0f20500101000000Z",
    );
  });
});

describe("ECDSA signature forms", () => {
  test("r||s round-trips through DER, including leading zeros and high bits", () => {
    const cases = [
      bytes("00".repeat(64)),
      bytes("ff".repeat(64)),
      bytes(`0000${"80".repeat(30)}${"00".repeat(31)}01`),
    ];
    for (let i = 0; i < 200; i++) cases.push(new Uint8Array(randomBytes(64)));
    for (const raw of cases) expect(hex(derToP1363(p1363ToDer(raw), 32))).toBe(hex(raw));
  });

  test("malformed signatures are refused", () => {
    expect(() => derToP1363(bytes("3006020101020101ff"), 32)).toThrow(DerError);
    expect(() => derToP1363(bytes("300402010102"), 32)).toThrow(DerError);
    expect(() => derToP1363(bytes("3003020180"), 32)).toThrow(DerError);
    expect(() =>
      derToP1363(
        tlv(
          TAG.SEQUENCE,
          unsignedInteger(new Uint8Array(33).fill(1)),
          unsignedInteger(bytes("01")),
        ),
        32,
      ),
    ).toThrow(DerError);
  });
});

describe("DER reading", () => {
  test("refuses truncated, indefinite and non-minimal lengths", () => {
    expect(() => readTlv(bytes("3005020101"), 0)).toThrow(DerError);
    expect(() => readTlv(bytes("3080020101 0000".replace(" ", "")), 0)).toThrow(DerError);
    expect(() => readTlv(bytes("30810302010101"), 0)).toThrow(DerError);
    expect(() => readTlv(bytes("30"), 0)).toThrow(DerError);
    expect(readTlv(bytes("3003020101"), 0)).toEqual({ tag: 0x30, start: 0, body: 2, end: 5 });
  });
});
