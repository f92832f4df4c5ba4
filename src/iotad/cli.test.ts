import { expect, test } from "bun:test";
import { parseCommandLine } from "./cli.ts";

test("an unknown flag is named in one clean line that points at --help", () => {
  expect(parseCommandLine(["run", "--bogus"])).toEqual({
    kind: "error",
    message: "Unknown option '--bogus'; see iotad --help",
  });
});
