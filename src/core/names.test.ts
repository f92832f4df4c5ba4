import { describe, expect, test } from "bun:test";
import { isValidName, nameProblem, NAME_MAX_LENGTH, visibleText } from "./names.ts";

describe("names", () => {
  test("accepts the guide's examples and the length bounds", () => {
    for (const name of ["room2-lights", "test-device-123", "a", "0", "x".repeat(NAME_MAX_LENGTH)]) {
      expect(nameProblem(name)).toBeUndefined();
      expect(isValidName(name)).toBe(true);
    }
  });

  test.each([
    ["", "is empty"],
    ["x".repeat(64), "64 characters"],
    ["Room2", "uppercase"],
    ["-room", "starts or ends with a dash"],
    ["room-", "starts or ends with a dash"],
    ["room--2", "two dashes"],
    ["room_2", '"_"'],
    ["room 2", "contains a space"],
    ["rööm", '"ö" (U+00F6)'],
    ["\ufeffroom", "contains a byte-order mark (U+FEFF)"],
    ["room\u00a02", "contains U+00A0"],
    ["room\t2", "contains U+0009"],
  ])("refuses %p with a reason naming the rule broken and the character", (name, reason) => {
    expect(isValidName(name)).toBe(false);
    expect(nameProblem(name)).toContain(reason);
  });

  test("names in messages show invisible characters as escapes", () => {
    expect(visibleText("\ufeffbom-1")).toBe('"\\ufeffbom-1"');
    expect(visibleText("a\u00a0b")).toBe('"a\\u00a0b"');
    expect(visibleText("room 2")).toBe('"room 2"');
    expect(visibleText("tab\there")).toBe('"tab\\there"');
  });
});
