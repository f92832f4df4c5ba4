import { expect, test } from "bun:test";
import { tokenProblem } from "./token-check.ts";

test("a token of printable ASCII passes; any other character is named with its place", () => {
  expect(tokenProblem("iota_5imyivWElA8up77-x_Y")).toBeUndefined();
  expect(tokenProblem("iota_abc\u200b")).toBe(
    "The admin token holds U+200B at character 9: a token is letters, digits and ASCII signs only. Was something pasted with it?",
  );
  expect(tokenProblem("\u201ciota_abc\u201d")).toStartWith(
    "The admin token holds U+201C at character 1:",
  );
  expect(tokenProblem("iota abc")).toStartWith("The admin token holds a space at character 5:");
  expect(tokenProblem("iota_\u00e9")).toStartWith("The admin token holds U+00E9 at character 6:");
});
