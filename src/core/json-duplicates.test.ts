/** The duplicate-key scan names the first key given twice in one object, on any valid JSON text. */

import { describe, expect, test } from "bun:test";
import { firstDuplicateKey } from "./json-duplicates.ts";

/** A small deterministic PRNG, so a failing case can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A JSON value that records, while written, the first duplicate key a reader meets (the expected answer). */
interface Made {
  text: string;
  duplicate: string | undefined;
}

const KEYS = ["a", "b", "device", "é", 'q"uote', "back\\slash", "names"];

/** Writes `key` sometimes with \u escapes, so equal keys may differ in their text. */
function keyText(key: string, random: () => number): string {
  if (random() < 0.3)
    return `"${[...key].map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`).join("")}"`;
  return JSON.stringify(key);
}

/** A random JSON value; `found` is the first duplicate met so far in document order. */
function make(random: () => number, depth: number, path: string, found: { at?: string }): string {
  const space = () => (random() < 0.2 ? " \n\t" : "");
  const r = random();
  if (depth > 3 || r < 0.35) {
    const scalars = ["1", "-2.5e3", "true", "false", "null", '"x,}]"', '"\\"{"', '"\\u0041"'];
    return scalars[Math.floor(random() * scalars.length)] ?? "0";
  }
  const join = (a: string) => (path === "" ? a : `${path}.${a}`);
  if (r < 0.6) {
    const items: string[] = [];
    const n = Math.floor(random() * 4);
    for (let i = 0; i < n; i++) items.push(make(random, depth + 1, join(String(i)), found));
    return `[${space()}${items.join(`,${space()}`)}]`;
  }
  const seen = new Set<string>();
  const members: string[] = [];
  const n = Math.floor(random() * 4);
  for (let i = 0; i < n; i++) {
    const key = KEYS[Math.floor(random() * KEYS.length)] ?? "a";
    // Hint: the scan stops at the first duplicate, before it reads the duplicate's value.
    if (seen.has(key) && found.at === undefined) found.at = join(key);
    seen.add(key);
    const value = found.at === undefined ? make(random, depth + 1, join(key), found) : "0";
    members.push(`${keyText(key, random)}${space()}:${space()}${value}`);
  }
  return `{${space()}${members.join(`,${space()}`)}}`;
}

function made(seed: number): Made {
  const found: { at?: string } = {};
  const text = make(prng(seed), 0, "", found);
  return { text, duplicate: found.at };
}

describe("firstDuplicateKey", () => {
  test("names the key, with its path, wherever it sits", () => {
    expect(firstDuplicateKey('{"group":"g","device":"a","device":"b"}')).toBe("device");
    expect(firstDuplicateKey('{"names":[{"x":1},{"x":1,"x":2}]}')).toBe("names.1.x");
    expect(firstDuplicateKey('{"a":{"b":{"c":1,"c":2}}}')).toBe("a.b.c");
    expect(firstDuplicateKey('{"a":1,"\\u0061":2}')).toBe("a");
  });

  test("keys in other objects, values and strings that look like keys are not duplicates", () => {
    expect(firstDuplicateKey('{"a":{"a":1},"b":[{"a":2},{"a":3}]}')).toBeUndefined();
    expect(firstDuplicateKey('{"a":"a","b":"\\"a\\":1,"}')).toBeUndefined();
    expect(firstDuplicateKey('[1, true, null, {"a": -1.5e3}, "}"]')).toBeUndefined();
    expect(firstDuplicateKey('"just a string"')).toBeUndefined();
  });

  test("agrees with the expected answer on 2,000 random JSON texts", () => {
    let withDuplicates = 0;
    for (let seed = 1; seed <= 2000; seed++) {
      const { text, duplicate } = made(seed);
      expect(() => JSON.parse(text)).not.toThrow();
      if (firstDuplicateKey(text) !== duplicate)
        throw new Error(`seed ${seed}: ${text} gave ${firstDuplicateKey(text)}, not ${duplicate}`);
      if (duplicate !== undefined) withDuplicates++;
    }
    expect(withDuplicates).toBeGreaterThan(100);
  });
});
