/** `iotactl add device -g <group>`: one device by name, or many from a file, stdin or a numbered range. */

import type { Command, CommandContext } from "../command.ts";
import {
  FROM_FILE_FLAG,
  GROUP_FLAG,
  checkName,
  groupFlag,
  integerFlag,
  stringFlag,
} from "../flags.ts";
import { EXIT, CliError, usageError } from "../exit-codes.ts";
import { printJson } from "../output.ts";
import { stopOnInterrupt } from "../io.ts";
import { MAX_NAMES, dedupe, repeatedWarning, numberedNames, readNameList } from "../names-input.ts";
import { DEFAULT_BATCH_SIZE, createInBatches } from "../bulk.ts";
import { BULK_MAX_NAMES } from "../../core/wire.ts";
import { hardwareName, PREFIX_RULE, prefixProblem } from "../../core/hardware-name.ts";
import { visibleText } from "../../core/names.ts";

/** Where the names come from, checked before anything is read or sent. */
type Source =
  | { kind: "one"; name: string }
  | { kind: "list"; names: string[] }
  | { kind: "file"; path: string }
  | { kind: "count"; prefix: string; start: number; count: number }
  /** Hardware values (serials, MACs) made into names as iotad makes them, from a file or the arguments. */
  | { kind: "values"; from: { path: string } | { values: string[] }; prefix: string };

function source(ctx: CommandContext): Source {
  const file = stringFlag(ctx.args, "from-file");
  const count = integerFlag(ctx.args, "count", 1, MAX_NAMES);
  const prefix = stringFlag(ctx.args, "prefix");
  const start = integerFlag(ctx.args, "start", 0, Number.MAX_SAFE_INTEGER);
  const names = ctx.args.positionals;
  const normalize = ctx.args.values.normalize === true;
  const modes = [names.length > 0, file !== undefined, count !== undefined].filter(Boolean).length;
  if (normalize) {
    if (count !== undefined || start !== undefined)
      throw usageError("--normalize goes with --from-file or values, not --count");
    if (modes === 0) throw usageError("--normalize needs --from-file FILE or hardware values");
    if (modes > 1) throw usageError("give values or --from-file, not both");
    const problem = prefixProblem(prefix ?? "");
    if (problem !== undefined)
      throw usageError(`--prefix ${JSON.stringify(prefix)} ${problem}; a prefix is ${PREFIX_RULE}`);
    return {
      kind: "values",
      from: file !== undefined ? { path: file } : { values: names },
      prefix: prefix ?? "",
    };
  }
  if (count === undefined && (prefix !== undefined || start !== undefined))
    throw usageError("--prefix and --start go with --count N (or with --normalize)");
  if (modes === 0)
    throw usageError("give a device name, --from-file FILE, or --count N --prefix PREFIX");
  if (modes > 1) throw usageError("give device names, --from-file or --count, not several of them");
  if (count !== undefined) {
    if (prefix === undefined)
      throw usageError("--count needs --prefix (e.g. --count 100 --prefix test-device-)");
    return { kind: "count", prefix, start: start ?? 1, count };
  }
  if (file !== undefined) return { kind: "file", path: file };
  if (names.length === 1) return { kind: "one", name: checkName(names[0] ?? "", "device name") };
  return { kind: "list", names };
}

/** Hardware values made into device names (iotad's normalisation); the values that give none, with why. */
async function namesFromValues(
  ctx: CommandContext,
  from: Extract<Source, { kind: "values" }>,
): Promise<{ names: string[]; invalid: { name: string; reason: string }[] }> {
  const values =
    "path" in from.from ? await readNameList(ctx.io, from.from.path) : from.from.values;
  const names: string[] = [];
  const invalid: { name: string; reason: string }[] = [];
  const madeFrom = new Map<string, string>();
  for (const value of values) {
    const made = hardwareName(value, from.prefix);
    if (!made.ok) {
      invalid.push({ name: value, reason: `the value ${made.problem}` });
      continue;
    }
    names.push(made.name);
    // Hint: iotad makes the same name from both values, so two boards would claim one device.
    const first = madeFrom.get(made.name);
    if (first === undefined) madeFrom.set(made.name, value);
    else if (first !== value)
      ctx.console.warn(
        `the values ${visibleText(first)} and ${visibleText(value)} both make the name ${made.name}: two boards with them would claim one device`,
      );
  }
  return { names, invalid };
}

/** The `add device` command. */
export const addDevice: Command = {
  words: ["add", "device"],
  summary: "create one device, or many from a file, stdin or a numbered range",
  usage:
    "add device -g <group> (<name>... | --from-file FILE | --count N --prefix P [--start S] | --normalize [--prefix P] (--from-file FILE | <value>...))",
  description: `Creates devices in a group. One name creates one device (exit 4 if it exists).
Several names, --from-file (one name per line, blank lines ignored, final newline optional;
"-" reads stdin) or --count/--prefix (numbered names) use the bulk API in batches: a progress
bar is shown on a terminal, then a summary (created / already existed / invalid) on stdout and
each invalid name with its reason on stderr. Re-running the same list is safe: devices that
already exist are reported and left alone. Exit 1 when any name was invalid.

--normalize reads hardware values instead of names (a factory's list of serial numbers or MAC
addresses) and makes each into the name iotad gives a device named by that value, with --prefix
as in its config ("device": { "from": ..., "prefix": ... }): lowercase, every run of other
characters one dash, at most 63 characters (the value's end kept). Values that cannot be a name
(empty, a vendor's placeholder such as "To Be Filled By O.E.M.") are reported as invalid.`,
  flags: [
    GROUP_FLAG,
    FROM_FILE_FLAG,
    {
      name: "count",
      type: "string",
      value: "N",
      help: "create N numbered devices: PREFIX<S>..PREFIX<S+N-1>",
    },
    {
      name: "prefix",
      type: "string",
      value: "PREFIX",
      help: "name prefix of numbered devices (e.g. test-device-)",
    },
    {
      name: "start",
      type: "string",
      value: "S",
      help: "first number of numbered devices (default 1)",
    },
    {
      name: "normalize",
      type: "boolean",
      help: "the lines or arguments are hardware values (serials, MACs): make each into the name iotad gives it, with --prefix",
    },
    {
      name: "batch-size",
      type: "string",
      value: "N",
      help: `names per API call (default ${DEFAULT_BATCH_SIZE}, at most ${BULK_MAX_NAMES})`,
    },
  ],
  examples: [
    "iotactl add device -g room2-lights test-device-123",
    "iotactl add device -g room2-lights --from-file device_names.txt",
    "generate-names | iotactl add device -g room2-lights --from-file -",
    "iotactl add device -g room2-lights --count 100 --prefix test-device-     # test-device-1 .. test-device-100",
    "iotactl add device -g line-7 --from-file macs.txt --normalize --prefix dev-   # AA:BB:.. -> dev-aa-bb-..",
  ],
  async run(ctx) {
    const group = groupFlag(ctx.args);
    const batchSize =
      integerFlag(ctx.args, "batch-size", 1, BULK_MAX_NAMES, DEFAULT_BATCH_SIZE) ??
      DEFAULT_BATCH_SIZE;
    const from = source(ctx);
    const client = ctx.admin();
    if (from.kind === "one") {
      const device = await client.createDevice(group, from.name);
      if (ctx.json) printJson(ctx.io, device);
      ctx.console.info(`Created device ${from.name} in group ${group}.`);
      return EXIT.OK;
    }
    const made = from.kind === "values" ? await namesFromValues(ctx, from) : undefined;
    const all =
      made !== undefined
        ? made.names
        : from.kind === "file"
          ? await readNameList(ctx.io, from.path)
          : from.kind === "count"
            ? numberedNames(from.prefix, from.start, from.count)
            : from.kind === "list"
              ? from.names
              : [];
    const { names, duplicates, repeated } = dedupe(all);
    if (names.length === 0 && (made?.invalid.length ?? 0) === 0)
      throw usageError(`${from.kind === "file" ? from.path : "the list"} holds no device names`);
    if (duplicates > 0) ctx.console.warn(repeatedWarning(duplicates, repeated));
    const interrupt = stopOnInterrupt(ctx.io);
    const summary = await createInBatches(
      client,
      group,
      names,
      batchSize,
      ctx.console.progress,
      interrupt.stopped,
    ).finally(interrupt.release);
    if (made !== undefined) summary.invalid.unshift(...made.invalid);
    ctx.console.endProgress();
    if (ctx.json)
      printJson(ctx.io, {
        group,
        created: summary.created,
        existing: summary.existing,
        invalid: summary.invalid,
      });
    else
      ctx.io.stdout.write(
        `created: ${summary.created}\nalready existed: ${summary.existing}\ninvalid: ${summary.invalid.length}\n`,
      );
    for (const { name, reason } of summary.invalid)
      ctx.io.stderr.write(`invalid name ${visibleText(name)}: ${reason}\n`);
    if (summary.done < summary.total)
      throw new CliError(
        EXIT.INTERRUPTED,
        `interrupted after ${summary.done} of ${summary.total} names (summary above); run the same command again to finish: devices already created are reported and left alone`,
      );
    if (summary.invalid.length > 0) {
      const total = names.length + (made?.invalid.length ?? 0);
      throw new CliError(
        EXIT.FAILURE,
        `${summary.invalid.length} of ${total} names were invalid and not created (listed above)`,
      );
    }
    return EXIT.OK;
  },
};
