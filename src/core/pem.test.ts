import { expect, test } from "bun:test";
import { decodePem, encodePem, toArrayBuffer } from "./pem.ts";

const BYTES = new Uint8Array(Array.from({ length: 100 }, (_, i) => i));

test("encodes 64 characters a line with a final newline, and decodes back", () => {
  const pem = encodePem(BYTES, "X509 CRL");
  expect(pem).toStartWith("-----BEGIN X509 CRL-----\n");
  expect(pem).toEndWith("-----END X509 CRL-----\n");
  for (const line of pem.trim().split("\n")) expect(line.length).toBeLessThanOrEqual(64);
  const blocks = decodePem(pem);
  expect(blocks).toHaveLength(1);
  expect(blocks[0]?.label).toBe("X509 CRL");
  expect(Buffer.from(blocks[0]?.der ?? []).equals(Buffer.from(BYTES))).toBe(true);
});

test("encodes an ArrayBuffer the same as a Uint8Array", () => {
  expect(encodePem(toArrayBuffer(BYTES), "CERTIFICATE")).toBe(encodePem(BYTES, "CERTIFICATE"));
});

test("splits a bundle in order, with CRLF line ends and text around the blocks", () => {
  const bundle = `leading text\r\n${encodePem(BYTES.slice(0, 10), "CERTIFICATE").replaceAll("\n", "\r\n")}between\n${encodePem(BYTES.slice(10, 40), "CERTIFICATE REQUEST")}`;
  const blocks = decodePem(bundle);
  expect(blocks.map((b) => b.label)).toEqual(["CERTIFICATE", "CERTIFICATE REQUEST"]);
  expect([...(blocks[1]?.der ?? [])]).toEqual([...BYTES.slice(10, 40)]);
});

test("ignores text without blocks and blocks whose END label does not match", () => {
  expect(decodePem("no pem here")).toEqual([]);
  expect(decodePem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n")).toEqual([]);
  expect(decodePem("-----BEGIN CERTIFICATE-----\nAAAA")).toEqual([]);
});

test("toArrayBuffer copies exactly the view's bytes, not its whole buffer", () => {
  const view = BYTES.subarray(5, 9);
  const buffer = toArrayBuffer(view);
  expect(buffer.byteLength).toBe(4);
  expect([...new Uint8Array(buffer)]).toEqual([5, 6, 7, 8]);
});
