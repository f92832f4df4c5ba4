import { describe, expect, test } from "bun:test";
import { isValidName, nameProblem, NAME_MAX_LENGTH } from "./names.ts";

describe("names", () => {
  test("accepts the seed's examples and the length bounds", () => {
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
    ["room 2", '" "'],
    ["rööm", '"ö"'],
  ])("refuses %p with a reason naming the rule broken", (name, reason) => {
    expect(isValidName(name)).toBe(false);
    expect(nameProblem(name)).toContain(reason);
  });
});
