import { describe, expect, test } from "bun:test";
import { dedupe, numberedNames, parseNameList, repeatedWarning } from "./names-input.ts";
import { isCliError } from "./exit-codes.ts";

describe("name lists", () => {
  test("one name per line; blank lines and a missing final newline are fine; CRLF is tolerated", () => {
    expect(parseNameList("a\n\nb\r\n  \nc")).toEqual(["a", "b", "c"]);
    expect(parseNameList("a\nb\n")).toEqual(["a", "b"]);
    expect(parseNameList("")).toEqual([]);
  });

  test("spaces inside a line are kept, so the server reports the name as invalid instead of guessing", () => {
    expect(parseNameList(" a \n")).toEqual([" a "]);
  });

  test("numbered names run from start to start + count - 1", () => {
    expect(numberedNames("test-device-", 1, 3)).toEqual([
      "test-device-1",
      "test-device-2",
      "test-device-3",
    ]);
    expect(numberedNames("n", 98, 3)).toEqual(["n98", "n99", "n100"]);
  });

  test("a prefix that makes invalid names is a usage error naming the rule", () => {
    for (const prefix of ["Dev-", "dev--", "x".repeat(63)]) {
      try {
        numberedNames(prefix, 1, 10);
        throw new Error(`accepted ${prefix}`);
      } catch (error) {
        expect(isCliError(error) && error.exitCode).toBe(2);
      }
    }
  });

  test("repeats are dropped, first occurrence kept, and the repeated names are named", () => {
    expect(dedupe(["b", "a", "b", "c", "a", "b"])).toEqual({
      names: ["b", "a", "c"],
      duplicates: 3,
      repeated: ["b", "a"],
    });
    expect(repeatedWarning(3, ["b", "a"])).toBe(
      '3 repeated names ignored (each is used once): "b", "a"',
    );
    const many = ["n1", "n2", "n3", "n4", "n5", "n6", "n7"];
    expect(repeatedWarning(7, many)).toEndWith('"n4", "n5" and 2 more');
  });

  test("a byte-order mark before the first name (a spreadsheet's export) is not part of it", () => {
    expect(parseNameList("\ufeffbom-1\r\nbom-2\r\n")).toEqual(["bom-1", "bom-2"]);
    // Only at the start of the list: elsewhere it stays, and is reported as invalid.
    expect(parseNameList("a\n\ufeffb\n")).toEqual(["a", "\ufeffb"]);
  });
});
