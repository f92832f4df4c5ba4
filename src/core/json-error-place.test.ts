import { expect, test } from "bun:test";
import { jsonErrorPlace } from "./json-error-place.ts";

test("valid JSON has no error place, whatever its shape", () => {
  for (const text of [
    "{}",
    ' { "a": [1, -2.5e3, true, false, null, "x\\n\\u00e9"], "b": {} } \n',
    "[]",
    '"s"',
    "0",
  ]) {
    expect(() => JSON.parse(text)).not.toThrow();
    expect(jsonErrorPlace(text)).toBeUndefined();
  }
});

test.each([
  ['{\n  "server": "https://x",\n  "group": "g"\n  "device": "d"\n}', 4, 3],
  ['{\n  "server": "https://x",\n}', 3, 1],
  ['{ "a": tru }', 1, 11],
  ['{ "a": 01 }', 1, 9],
  ["{ not json", 1, 3],
  ['{\n  "a": "b', 2, 10],
  ["", 1, 1],
  ['{ "a": 1 } x', 1, 12],
  ['{ "a": "\\x" }', 1, 10],
])("the place of the first error a hand edit makes (%#)", (text, line, column) => {
  expect(() => JSON.parse(text)).toThrow();
  expect(jsonErrorPlace(text)).toEqual({ line, column });
});
