import { describe, expect, test } from "bun:test";
import { matchesNamePattern, namePatternProblem } from "./name-pattern.ts";

describe("enrollment name patterns", () => {
  test.each([
    ["dev-*", "dev-0f3a9c", true],
    ["dev-*", "dev-", true],
    ["dev-*", "devx", false],
    ["dev-*", "prod-dev-1", false],
    ["*-gw", "line1-gw", true],
    ["*-gw", "line1-gw2", false],
    ["line?-*", "line7-a", true],
    ["line?-*", "line17-a", false],
    ["exact-name", "exact-name", true],
    ["exact-name", "exact-names", false],
    ["*", "anything-at-all", true],
    ["a*b*c", "axxbyyc", true],
    ["a*b*c", "axxbyy", false],
  ])("%p against %p: %p", (pattern, name, matches) => {
    expect(matchesNamePattern(pattern, name)).toBe(matches);
  });

  test("many stars against a long name with many dashes", () => {
    const pattern = `${"*-".repeat(20)}*z`;
    const name = `${"a-".repeat(31)}a`;
    expect(matchesNamePattern(pattern, name)).toBe(false);
    expect(matchesNamePattern(pattern, `${name.slice(0, -1)}z`)).toBe(true);
  });

  test.each([
    ["dev-*", undefined],
    ["*", undefined],
    ["", "is empty"],
    ["Dev-*", '"D"'],
    ["dev_*", '"_"'],
    ["dev-[0-9]", '"["'],
    ["x".repeat(64), "at most 63"],
  ])("pattern %p", (pattern, problem) => {
    const found = namePatternProblem(pattern);
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });
});
