/** `iotactl get group <group>`: one group's settings and device count (never its secret). */

import type { Command } from "../command.ts";
import { checkName, positionals } from "../flags.ts";
import { groupFields, printFields, printJson } from "../output.ts";

/** The `get group` command. */
export const getGroup: Command = {
  words: ["get", "group"],
  summary: "show a group",
  usage: "get group <group>",
  description:
    "Shows a group: device count, certificate validity, renew grace, creation and secret rotation times.",
  flags: [],
  examples: ["iotactl get group room2-lights", "iotactl get group room2-lights --json"],
  async run(ctx) {
    const [name = ""] = positionals(ctx.args, ["<group>"]);
    const group = await ctx.admin().getGroup(checkName(name, "group name"));
    if (ctx.json) printJson(ctx.io, group);
    else printFields(ctx.io, groupFields(group));
    return 0;
  },
};
