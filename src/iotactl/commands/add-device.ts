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
import { MAX_NAMES, dedupe, numberedNames, readNameList } from "../names-input.ts";
import { DEFAULT_BATCH_SIZE, createInBatches } from "../bulk.ts";
import { BULK_MAX_NAMES } from "../../core/wire.ts";

/** Where the names come from, checked before anything is read or sent. */
type Source =
  | { kind: "one"; name: string }
  | { kind: "list"; names: string[] }
  | { kind: "file"; path: string }
  | { kind: "count"; prefix: string; start: number; count: number };

function source(ctx: CommandContext): Source {
  const file = stringFlag(ctx.args, "from-file");
  const count = integerFlag(ctx.args, "count", 1, MAX_NAMES);
  const prefix = stringFlag(ctx.args, "prefix");
  const start = integerFlag(ctx.args, "start", 0, Number.MAX_SAFE_INTEGER);
  const names = ctx.args.positionals;
  const modes = [names.length > 0, file !== undefined, count !== undefined].filter(Boolean).length;
  if (count === undefined && (prefix !== undefined || start !== undefined))
    throw usageError("--prefix and --start go with --count N");
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

/** The `add device` command. */
export const addDevice: Command = {
  words: ["add", "device"],
  summary: "create one device, or many from a file, stdin or a numbered range",
  usage: "add device -g <group> (<name>... | --from-file FILE | --count N --prefix P [--start S])",
  description: `Creates devices in a group. One name creates one device (exit 4 if it exists).
Several names, --from-file (one name per line, blank lines ignored, final newline optional;
"-" reads stdin) or --count/--prefix (numbered names) use the bulk API in batches: a progress
bar is shown on a terminal, then a summary (created / already existed / invalid) on stdout and
each invalid name with its reason on stderr. Re-running the same list is safe: devices that
already exist are reported and left alone. Exit 1 when any name was invalid.`,
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
    const all =
      from.kind === "file"
        ? await readNameList(ctx.io, from.path)
        : from.kind === "count"
          ? numberedNames(from.prefix, from.start, from.count)
          : from.names;
    const { names, duplicates } = dedupe(all);
    if (names.length === 0)
      throw usageError(`${from.kind === "file" ? from.path : "the list"} holds no device names`);
    if (duplicates > 0) ctx.console.warn(`${duplicates} repeated names ignored`);
    const summary = await createInBatches(client, group, names, batchSize, ctx.console.progress);
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
      ctx.io.stderr.write(`invalid name ${JSON.stringify(name)}: ${reason}\n`);
    if (summary.invalid.length > 0) {
      throw new CliError(
        EXIT.FAILURE,
        `${summary.invalid.length} of ${names.length} names were invalid and not created (listed above)`,
      );
    }
    return EXIT.OK;
  },
};
