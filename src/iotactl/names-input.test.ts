import { describe, expect, test } from "bun:test";
import { dedupe, numberedNames, parseNameList } from "./names-input.ts";
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

  test("repeats are dropped, first occurrence kept", () => {
    expect(dedupe(["b", "a", "b", "c", "a"])).toEqual({ names: ["b", "a", "c"], duplicates: 2 });
  });
});
