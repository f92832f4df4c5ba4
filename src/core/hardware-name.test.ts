import { describe, expect, test } from "bun:test";
import { hardwareName, PREFIX_MAX_LENGTH, prefixProblem } from "./hardware-name.ts";
import { NAME_MAX_LENGTH, nameProblem } from "./names.ts";

const name = (value: string, prefix = "") => {
  const made = hardwareName(value, prefix);
  if (!made.ok) throw new Error(made.problem);
  return made.name;
};

describe("hardware names", () => {
  test.each([
    ["0f3a9c12d45e4b7f9a1c2d3e4f5a6b7c\n", "dev-", "dev-0f3a9c12d45e4b7f9a1c2d3e4f5a6b7c"],
    ["AA:BB:CC:00:11:22\n", "", "aa-bb-cc-00-11-22"],
    ["  SN: 2024/ABC__0042  ", "sn-", "sn-sn-2024-abc-0042"],
    ["--x7--", "", "x7"],
    ["Ünïcode 7", "", "n-code-7"],
    ["first line\nsecond line\n", "", "first-line"],
    ["pc-1\r\n", "room2-", "room2-pc-1"],
    ["abc", "dev", "devabc"],
  ])("%p with prefix %p is %p", (value, prefix, expected) => {
    expect(name(value, prefix)).toBe(expected);
    expect(nameProblem(expected)).toBeUndefined();
  });

  test("the same value gives the same name every time", () => {
    const value = "Board Serial #00042 (rev B)";
    expect(new Set(Array.from({ length: 5 }, () => name(value, "dev-"))).size).toBe(1);
  });

  test("a long value keeps its end (where serials differ), at most 63 characters in all", () => {
    const common = "ACME-INDUSTRIAL-GATEWAY-MODEL-X200-REVISION-C-BATCH-2024-LINE-7-UNIT-";
    const a = name(`${common}000041`, "dev-");
    const b = name(`${common}000042`, "dev-");
    expect(a.length).toBeLessThanOrEqual(NAME_MAX_LENGTH);
    expect(a).toStartWith("dev-");
    expect(a).toEndWith("unit-000041");
    expect(b).toEndWith("unit-000042");
    expect(a).not.toBe(b);
    const made = hardwareName(`${common}000041`, "dev-");
    expect(made.ok && made.truncated).toBe(true);
    expect(nameProblem(a)).toBeUndefined();
  });

  test("a cut that lands on a dash does not start the value with one", () => {
    const made = name(`${"x".repeat(10)}-${"y".repeat(58)}`, "dev-");
    expect(made).toBe(`dev-${"y".repeat(58)}`);
  });

  test("a machine-id always fits whole behind the longest prefix", () => {
    const prefix = `${"p".repeat(PREFIX_MAX_LENGTH - 1)}-`;
    expect(name("0123456789abcdef0123456789abcdef", prefix)).toBe(
      `${prefix}0123456789abcdef0123456789abcdef`,
    );
  });

  test.each([
    ["", "is empty"],
    ["   \n", "is empty"],
    ["::--::", "has no letters or digits"],
    ["To Be Filled By O.E.M.", "placeholder"],
    ["Default string", "placeholder"],
    ["System Serial Number", "placeholder"],
    ["uninitialized", "placeholder"],
    ["00:00:00:00:00:00", "one character repeated"],
    ["FFFFFFFF-FFFF-FFFF-FFFF-FFFFFFFFFFFF", "one character repeated"],
    ["03000200-0400-0500-0006-000700080009", "placeholder"],
  ])("refuses %p: %p", (value, problem) => {
    const made = hardwareName(value, "dev-");
    expect(made.ok).toBe(false);
    if (!made.ok) expect(made.problem).toContain(problem);
  });

  test.each([
    ["dev-", undefined],
    ["dev", undefined],
    ["", undefined],
    ["Dev-", "must be"],
    ["-dev", "must be"],
    ["dev--", "must be"],
    ["d_v", "must be"],
    ["p".repeat(PREFIX_MAX_LENGTH + 1), "characters long"],
  ])("prefix %p", (prefix, problem) => {
    const found = prefixProblem(prefix);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});
