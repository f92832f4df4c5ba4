import { expect, test } from "bun:test";
import { CliError } from "./exit-codes.ts";
import { type Flag, parseFlags } from "./flags.ts";

const TOKEN: Flag = { name: "token", type: "string", help: "the device token" };
const OUT: Flag = { name: "out", short: "o", type: "string", help: "the folder" };
const GROUP: Flag = { name: "group", short: "g", type: "string", help: "the group" };
const FLAGS = [TOKEN, OUT, GROUP];

/** The usage error `argv` gives, or undefined when it parses. */
function refusal(argv: string[]): string | undefined {
  try {
    parseFlags(argv, FLAGS);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(CliError);
    return (error as CliError).message;
  }
}

test("a token or secret that starts with a dash is a value (base64url: one in 64 does)", () => {
  const token = "-Xb3kq9Lw2vT0p8sYJ4nZc1uHfGe7aRmDoQiW5lKtE6";
  const parsed = parseFlags(["--token", token, "-o", "p", "-g", "lamps", "lamp-1"], FLAGS);
  expect(parsed.values.token).toBe(token);
  expect(parsed.values.out).toBe("p");
  expect(parsed.positionals).toEqual(["lamp-1"]);
  // With a short flag too, and a value that begins with two dashes.
  expect(parseFlags(["-g", "lamps", "-o", "--odd"], FLAGS).values.out).toBe("--odd");
  expect(parseFlags(["--token=-abc"], FLAGS).values.token).toBe("-abc");
});

test("a forgotten value still meets the next flag and is a usage error naming it", () => {
  expect(refusal(["--token", "--out", "p"])).toMatch(/--token/);
  expect(refusal(["--token", "-o", "p"])).toMatch(/--token/);
  expect(refusal(["--token", "--json"])).toMatch(/--token/);
});

test("a lone dash stays a value (standard input), and -- ends the flags", () => {
  expect(parseFlags(["--out", "-"], FLAGS).values.out).toBe("-");
  expect(parseFlags(["--", "--token", "-x"], FLAGS).positionals).toEqual(["--token", "-x"]);
});
