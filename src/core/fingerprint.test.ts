import { describe, expect, test } from "bun:test";
import { fingerprintOfDer, parseFingerprint } from "./fingerprint.ts";

const HEX = "3A7BD3E2360A3D29EEA436FCFB7E44C735D117C42D1C1835420B6B9942DD4F1B";
const COLONS = HEX.replace(/(..)(?!$)/g, "$1:");

describe("fingerprints", () => {
  test("the SHA-256 of the DER, upper-case hex bytes joined by colons (openssl's form)", () => {
    // SHA-256("abc") is a published test vector.
    expect(fingerprintOfDer(new TextEncoder().encode("abc"))).toBe(
      "BA:78:16:BF:8F:01:CF:EA:41:41:40:DE:5D:AE:22:23:B0:03:61:A3:96:17:7A:9C:B4:10:FF:61:F2:00:15:AD",
    );
  });

  test.each([
    [`sha256 Fingerprint=${COLONS}`],
    [`SHA256 Fingerprint=${COLONS}`],
    [`SHA-256 fingerprint = ${COLONS}`],
    [COLONS],
    [COLONS.toLowerCase()],
    [HEX],
    [HEX.toLowerCase()],
    [`  ${COLONS}\n`],
  ])("%p is read", (text) => {
    expect(parseFingerprint(text)).toBe(COLONS);
  });

  test.each([
    [HEX.slice(2)],
    [`${HEX}00`],
    [HEX.replace("3A", "ZZ")],
    ["sha1 Fingerprint=AB"],
    [""],
  ])("%p is refused", (text) => {
    expect(parseFingerprint(text)).toBeUndefined();
  });
});
