/** `iotactl delete group <group> [--force]`: deletes a group; with --force also its devices. */

import type { Command } from "../command.ts";
import { checkName, positionals } from "../flags.ts";
import { printJson } from "../output.ts";

/** The `delete group` command. */
export const deleteGroup: Command = {
  words: ["delete", "group"],
  summary: "delete a group (--force: with its devices)",
  usage: "delete group <group> [--force]",
  description: `Deletes a group. A group that still has devices is refused (exit 4) unless --force is given;
then its devices are deleted too and their certificates revoked.`,
  flags: [
    {
      name: "force",
      type: "boolean",
      help: "also delete the group's devices (revoking their certificates)",
    },
  ],
  examples: ["iotactl delete group room2-lights", "iotactl delete group room2-lights --force"],
  async run(ctx) {
    const [name = ""] = positionals(ctx.args, ["<group>"]);
    checkName(name, "group name");
    await ctx.admin().deleteGroup(name, ctx.args.values.force === true);
    if (ctx.json) printJson(ctx.io, { group: name, deleted: true });
    ctx.console.info(`Deleted group ${name}.`);
    return 0;
  },
};
