import { expect, test } from "bun:test";
import { isPlainHttpBeyondLoopback } from "./plain-http.ts";

test.each([
  ["http://127.0.0.1:8440", false],
  ["http://127.255.0.9", false],
  ["http://127.1", false],
  ["http://localhost:8440", false],
  ["http://LOCALHOST.:8440", false],
  ["http://[::1]:8440", false],
  ["http://[0:0:0:0:0:0:0:1]:8440", false],
  ["https://iota.example.com", false],
  ["https://10.0.0.5:8440", false],
  ["http://iota.example.com", true],
  ["http://10.0.0.5:8440", true],
  ["http://0.0.0.0:8440", true],
  ["http://128.0.0.1", true],
  ["http://127.example.com", true],
  ["http://localhost.example.com", true],
  ["http://[::ffff:7f00:1]", true],
  ["http://[fe80::1]", true],
])("%p beyond loopback over plain http: %p", (url, expected) => {
  expect(isPlainHttpBeyondLoopback(url)).toBe(expected);
});
