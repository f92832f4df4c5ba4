/** The issuing paths' P-256 checks: true only for the key's own signature, false or undefined for anything else. */

import { describe, expect, test } from "bun:test";
import { createPublicKey, generateKeyPairSync, sign } from "node:crypto";
import { importP256, verifyP256 } from "./p256-verify.ts";

const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const spki = new Uint8Array(publicKey.export({ format: "der", type: "spki" }));
const message = new Uint8Array(Buffer.from("iota-renew-v1\nserial"));
const signature = new Uint8Array(
  sign("sha256", message, { key: privateKey, dsaEncoding: "ieee-p1363" }),
);

describe("verifyP256", () => {
  test("a signature by the key verifies; another message, another key or a changed bit does not", async () => {
    const key = await importP256(spki);
    if (!key) throw new Error("the key did not import");
    expect(await verifyP256(key, signature, message)).toBe(true);
    expect(await verifyP256(key, signature, new Uint8Array(Buffer.from("other")))).toBe(false);
    const flipped = signature.slice();
    flipped[10] = (flipped[10] ?? 0) ^ 1;
    expect(await verifyP256(key, flipped, message)).toBe(false);
    const other = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
    const otherKey = await importP256(
      new Uint8Array(other.export({ format: "der", type: "spki" })),
    );
    if (!otherKey) throw new Error("the other key did not import");
    expect(await verifyP256(otherKey, signature, message)).toBe(false);
  });

  test("a signature of the wrong shape answers false, not an exception", async () => {
    const key = await importP256(spki);
    if (!key) throw new Error("the key did not import");
    expect(await verifyP256(key, signature.subarray(0, 63).slice(), message)).toBe(false);
    expect(await verifyP256(key, new Uint8Array(0), message)).toBe(false);
    const der = new Uint8Array(sign("sha256", message, { key: privateKey, dsaEncoding: "der" }));
    expect(await verifyP256(key, der, message)).toBe(false);
  });

  test("a point off the curve, another curve's key or garbage does not import", async () => {
    const offCurve = spki.slice();
    offCurve[offCurve.length - 1] = (offCurve[offCurve.length - 1] ?? 0) ^ 1;
    expect(await importP256(offCurve)).toBeUndefined();
    const p384 = generateKeyPairSync("ec", { namedCurve: "P-384" }).publicKey;
    expect(
      await importP256(new Uint8Array(p384.export({ format: "der", type: "spki" }))),
    ).toBeUndefined();
    expect(await importP256(new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]))).toBeUndefined();
    // Hint: node:crypto, an independent reader, agrees that the changed point is no key.
    expect(() =>
      createPublicKey({ key: Buffer.from(offCurve), format: "der", type: "spki" }),
    ).toThrow();
  });
});
