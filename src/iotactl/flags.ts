/** Command-line flags: declared once, parsed with node:util parseArgs, every error a usage error (exit 2). */

import { argumentProblem } from "../core/argument-problem.ts";
import { parseArgs } from "node:util";
import { nameProblem } from "../core/names.ts";
import { usageError } from "./exit-codes.ts";

/** One flag a command accepts. */
export interface Flag {
  /** Long name without dashes (`group`). */
  name: string;
  /** One-letter alias (`g`). */
  short?: string;
  /** `string` flags take a value; `boolean` flags do not. */
  type: "string" | "boolean";
  /** Placeholder shown in help (`GROUP`). */
  value?: string;
  /** One line of help. */
  help: string;
}

/** The group a device command works on. */
export const GROUP_FLAG: Flag = {
  name: "group",
  short: "g",
  type: "string",
  value: "GROUP",
  help: "the device group",
};
/** Names one per line from a file, or `-` for standard input. */
export const FROM_FILE_FLAG: Flag = {
  name: "from-file",
  short: "f",
  type: "string",
  value: "FILE",
  help: "device names, one per line (blank lines ignored), or - for standard input",
};
/** Machine-readable output. */
export const JSON_FLAG: Flag = { name: "json", type: "boolean", help: "print the result as JSON" };
/** Help for the command. */
export const HELP_FLAG: Flag = {
  name: "help",
  short: "h",
  type: "boolean",
  help: "show this help",
};

/** Accepting a plain http:// server beyond loopback; never turns certificate verification off. */
export const INSECURE_FLAG: Flag = {
  name: "insecure",
  type: "boolean",
  help: "accept a plain http:// server beyond loopback (tokens and secrets in clear text)",
};

/** Flags every command accepts. */
export const GLOBAL_FLAGS: Flag[] = [JSON_FLAG, INSECURE_FLAG, HELP_FLAG];

/** The parsed command line of one command. */
export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
}

/**
 * `argv` with a string flag and a next argument that starts with a dash but is no flag of `flags` joined as
 * `--name=value`. Hint: tokens and secrets are base64url, so one in 64 starts with `-`; parseArgs refuses
 * `--token -Xb3...` as ambiguous, while a forgotten value (`--token --out p`) still meets a known flag and stays
 * a usage error.
 */
function joinDashValues(argv: string[], flags: Flag[]): string[] {
  const byLong = new Map(flags.map((f) => [`--${f.name}`, f]));
  const byShort = new Map(flags.filter((f) => f.short).map((f) => [`-${f.short}`, f]));
  const known = (arg: string) =>
    byLong.has(arg.split("=")[0] ?? arg) || (arg.length === 2 && byShort.has(arg));
  const joined: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") return [...joined, ...argv.slice(i)];
    const flag = byLong.get(arg) ?? byShort.get(arg);
    const next = argv[i + 1];
    if (flag?.type === "string" && next?.startsWith("-") && next !== "-" && !known(next)) {
      joined.push(`--${flag.name}=${next}`);
      i++;
    } else joined.push(arg);
  }
  return joined;
}

/** Parses `argv` against `flags` plus the global flags; a usage error names the offending flag. */
export function parseFlags(argv: string[], flags: Flag[]): ParsedArgs {
  const options: Record<string, { type: "string" | "boolean"; short?: string }> = {};
  for (const flag of [...flags, ...GLOBAL_FLAGS]) {
    options[flag.name] = flag.short ? { type: flag.type, short: flag.short } : { type: flag.type };
  }
  try {
    const { values, positionals } = parseArgs({
      args: joinDashValues(argv, [...flags, ...GLOBAL_FLAGS]),
      options,
      allowPositionals: true,
      strict: true,
    });
    return { values: values as ParsedArgs["values"], positionals };
  } catch (error) {
    throw usageError(argumentProblem(error));
  }
}

/** A string flag's value, or `undefined`. */
export function stringFlag(args: ParsedArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === "string" ? value : undefined;
}

/** A string flag that must be present. */
export function requiredFlag(args: ParsedArgs, name: string, why = ""): string {
  const value = stringFlag(args, name);
  if (value === undefined || value === "")
    throw usageError(`--${name} is required${why ? ` ${why}` : ""}`);
  return value;
}

/** A name (group or device) that must follow the naming rule; `what` says whose name it is. */
export function checkName(name: string, what: string): string {
  const problem = nameProblem(name);
  if (problem)
    throw usageError(
      `${what} ${JSON.stringify(name)} ${problem}; use lowercase letters, digits and single dashes (e.g. room2-lights)`,
    );
  return name;
}

/** The `-g` group, required and valid. */
export function groupFlag(args: ParsedArgs): string {
  return checkName(requiredFlag(args, "group", "(-g GROUP)"), "group name");
}

/** A whole number flag within [min, max], or `fallback` when absent. */
export function integerFlag(
  args: ParsedArgs,
  name: string,
  min: number,
  max: number,
  fallback?: number,
): number | undefined {
  const text = stringFlag(args, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max) {
    throw usageError(
      `--${name} must be a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/** Exactly `count` positional arguments named by `labels`. */
export function positionals(args: ParsedArgs, labels: string[]): string[] {
  if (args.positionals.length < labels.length)
    throw usageError(`missing ${labels.slice(args.positionals.length).join(" and ")}`);
  if (args.positionals.length > labels.length) {
    throw usageError(`unexpected argument ${JSON.stringify(args.positionals[labels.length])}`);
  }
  return args.positionals;
}
