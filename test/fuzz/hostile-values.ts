/** Generators of hostile input: random JSON, wrong types, huge strings, deep nesting, names that break the rule, broken PEM. */

import type { Prng } from "./prng.ts";

const ALPHABETS = [
  "abcdefghijklmnopqrstuvwxyz0123456789-",
  "ABCDEFGHIJKLMNOPQRSTUVWXYZ_. /\\'\"`$%{}[]<>;&|",
  "\u0000\u0001\u0007\b\t\n\r\u001b\u007f",
  "äöüßéñ漢字🙂\u200b\u202e\ufeff\ud800\udfff",
];

/** A random string: mixed alphabets (control characters, lone surrogates, quotes), length up to `max`. */
export function randomString(rng: Prng, max = 40): string {
  const length = rng.int(0, max);
  let out = "";
  for (let i = 0; i < length; i++) {
    const alphabet = rng.pick(ALPHABETS);
    out += alphabet[rng.int(0, alphabet.length - 1)];
  }
  return out;
}

/** A string far beyond any limit (100k to 300k characters). */
export function hugeString(rng: Prng): string {
  return rng.pick(["a", "-", "\u00e9", "A1", "\\u0000"]).repeat(rng.int(100_000, 300_000));
}

/** Nested arrays or objects, `depth` levels deep, as JSON text (built as text: a value this deep would overflow JSON.stringify). */
export function deepJson(rng: Prng, depth = rng.int(1_000, 20_000)): string {
  return rng.chance(0.5)
    ? `${"[".repeat(depth)}1${"]".repeat(depth)}`
    : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

/** Any JSON value, up to `depth` levels, with awkward numbers, keys like __proto__, and odd strings. */
export function randomJson(rng: Prng, depth = 3): unknown {
  const kind = rng.int(0, depth > 0 ? 7 : 5);
  switch (kind) {
    case 0:
      return null;
    case 1:
      return rng.chance(0.5);
    case 2:
      return rng.pick([
        0,
        -0,
        -1,
        1.5,
        1e308,
        -1e308,
        2 ** 53 + 1,
        4294967296,
        65536,
        -2147483649,
        1e-320,
      ]);
    case 3:
    case 4:
      return randomString(rng);
    case 5:
      return rng.pick([
        "",
        " ",
        "null",
        "true",
        "[]",
        "{}",
        "0",
        "-1",
        "NaN",
        "1e999",
        "__proto__",
        "constructor",
        "toString",
      ]);
    case 6: {
      const n = rng.int(0, 5);
      return Array.from({ length: n }, () => randomJson(rng, depth - 1));
    }
    default: {
      const obj: Record<string, unknown> = {};
      const n = rng.int(0, 5);
      for (let i = 0; i < n; i++) {
        const key = rng.chance(0.3)
          ? rng.pick([
              "__proto__",
              "constructor",
              "prototype",
              "name",
              "names",
              "csr",
              "token",
              "secret",
              "",
            ])
          : randomString(rng, 10);
        obj[key] = randomJson(rng, depth - 1);
      }
      return obj;
    }
  }
}

/** A value that is not a string (for fields that must be strings). */
export function notAString(rng: Prng): unknown {
  return rng.pick<unknown>([
    null,
    true,
    false,
    0,
    -1,
    3.14,
    1e308,
    [],
    ["a"],
    {},
    { name: "a" },
    [[[]]],
  ]);
}

/** A name (group, device, tenant) that breaks the naming rule, or is not a string at all. */
export function invalidName(rng: Prng): unknown {
  const choices: (() => unknown)[] = [
    () => "",
    () => "-lead",
    () => "trail-",
    () => "double--dash",
    () => "Upper",
    () => "under_score",
    () => "dot.ted",
    () => "sp ace",
    () => "slash/name",
    () => "..",
    () => "a".repeat(64),
    () => "a".repeat(rng.int(65, 5000)),
    () => `x${randomString(rng, 20)}!`,
    () => "\u0000",
    () => "caf\u00e9",
    () => "\ud800",
    () => notAString(rng),
  ];
  return rng.pick(choices)();
}

/** A syntactically valid name that does not exist in any test database (random 12 letters after `nx-`). */
export function absentName(rng: Prng): string {
  let s = "nx-";
  for (let i = 0; i < 12; i++) s += "abcdefghijklmnopqrstuvwxyz0123456789"[rng.int(0, 35)];
  return s;
}

/** A duration value that the API must refuse (wrong type, unparseable, below 1 minute or above the maximum). */
export function invalidDuration(rng: Prng): unknown {
  return rng.pick<unknown>([
    "",
    "abc",
    "0",
    0,
    -5,
    "-1d",
    "59s",
    59,
    "1y",
    "999999d",
    1e308,
    "1.5d",
    "30 d",
    "d30",
    "NaN",
    null,
    true,
    [],
    {},
    "30d-1d",
  ]);
}

/** Text that is PEM-like but broken: truncated, no END line, bad base64, wrong label, garbage DER, two blocks. */
export function brokenPem(rng: Prng, valid: string): string {
  const body = valid.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const choices: (() => string)[] = [
    () => valid.slice(0, rng.int(0, valid.length - 1)),
    () => valid.replace(/-----END[^\n]*\n?/, ""),
    () => valid.replace(/-----BEGIN ([^-]+)-----/, "-----BEGIN $1-----\n!!!not base64!!!"),
    () => valid.replace(/CERTIFICATE REQUEST|CERTIFICATE/g, "PRIVATE KEY"),
    () =>
      `-----BEGIN CERTIFICATE REQUEST-----\n${Buffer.from(randomString(rng, 200)).toString("base64")}\n-----END CERTIFICATE REQUEST-----\n`,
    () =>
      `-----BEGIN CERTIFICATE-----\n${Buffer.from(randomString(rng, 200)).toString("base64")}\n-----END CERTIFICATE-----\n`,
    () =>
      `-----BEGIN CERTIFICATE REQUEST-----\n${body.slice(0, rng.int(4, Math.max(4, body.length - 4)))}\n-----END CERTIFICATE REQUEST-----\n`,
    () => `${valid}${valid}`,
    () => `-----BEGIN \n`,
    () => `-----BEGIN CERTIFICATE REQUEST-----\n-----END CERTIFICATE REQUEST-----\n`,
    () => flipByte(rng, valid),
    () => `-----BEGIN X-----${"A".repeat(rng.int(16_385, 40_000))}`,
  ];
  return rng.pick(choices)();
}

/** The PEM with one byte of its DER changed (anywhere: the structure, the key, the signature). */
export function flipByte(rng: Prng, pem: string, at?: number): string {
  const label = /-----BEGIN ([^-]+)-----/.exec(pem)?.[1] ?? "CERTIFICATE REQUEST";
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  const i = at ?? rng.int(0, der.length - 1);
  der[i] = (der[i] ?? 0) ^ (1 << rng.int(0, 7));
  const b64 = der.toString("base64").replace(/(.{64})/g, "$1\n");
  return `-----BEGIN ${label}-----\n${b64}\n-----END ${label}-----\n`;
}
