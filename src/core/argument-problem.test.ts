import { expect, test } from "bun:test";
import { parseArgs } from "node:util";
import { argumentProblem } from "./argument-problem.ts";

/** The error parseArgs throws for `args`. */
function failure(args: string[]): unknown {
  try {
    parseArgs({ args, allowPositionals: true, strict: true, options: { out: { type: "string" } } });
  } catch (error) {
    return error;
  }
  throw new Error(`parseArgs accepted ${args.join(" ")}`);
}

test("an unknown option is named, without parseArgs's advice about -- and its unbalanced quotes", () => {
  expect(argumentProblem(failure(["--bogus"]))).toBe("Unknown option '--bogus'");
});

test("a message over several lines becomes one line", () => {
  const text = argumentProblem(failure(["--out", "-x"]));
  expect(text).not.toContain("\n");
  expect(text).toContain("--out");
});
