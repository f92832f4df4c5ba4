/** `iotactl list groups`: every group of the tenant with its device count. */

import { formatDuration } from "../../core/duration.ts";
import type { Command } from "../command.ts";
import { positionals } from "../flags.ts";
import { printJson, row } from "../output.ts";

const WIDTHS = [40, 10, 10];

/** The `list groups` command. */
export const listGroups: Command = {
  words: ["list", "groups"],
  summary: "list the groups",
  usage: "list groups [--quiet]",
  description:
    "Lists the tenant's groups on stdout: name, device count, certificate validity, creation time.\nWith --quiet, only the names, one per line (for scripts and shell completion).",
  flags: [
    {
      name: "quiet",
      short: "q",
      type: "boolean",
      help: "print only the group names, one per line",
    },
  ],
  examples: [
    "iotactl list groups",
    "iotactl list groups --json",
    'for g in $(iotactl list groups -q); do iotactl list devices -g "$g"; done',
  ],
  async run(ctx) {
    positionals(ctx.args, []);
    const { items } = await ctx.admin().listGroups();
    if (ctx.args.values.quiet === true && !ctx.json) {
      for (const g of items) ctx.io.stdout.write(`${g.name}\n`);
      return 0;
    }
    if (ctx.json) {
      printJson(ctx.io, items);
      return 0;
    }
    ctx.io.stdout.write(row(["NAME", "DEVICES", "VALIDITY", "CREATED"], WIDTHS));
    for (const g of items)
      ctx.io.stdout.write(
        row(
          [g.name, String(g.deviceCount ?? "-"), formatDuration(g.validity), g.createdAt],
          WIDTHS,
        ),
      );
    if (items.length === 0)
      ctx.console.info('No groups yet; create one with "iotactl add group <name>".');
    return 0;
  },
};
