/** `iotactl delete device -g <group> <device>`: deletes a device and revokes its certificates. */

import type { Command } from "../command.ts";
import { GROUP_FLAG, checkName, groupFlag, positionals } from "../flags.ts";
import { printJson } from "../output.ts";

/** The `delete device` command. */
export const deleteDevice: Command = {
  words: ["delete", "device"],
  summary: "delete a device (revokes its certificates)",
  usage: "delete device -g <group> <device>",
  description: "Deletes a device. Its certificates are revoked and appear on the CRL.",
  flags: [GROUP_FLAG],
  examples: ["iotactl delete device -g room2-lights test-device-123"],
  async run(ctx) {
    const group = groupFlag(ctx.args);
    const [name = ""] = positionals(ctx.args, ["<device>"]);
    await ctx.admin().deleteDevice(group, checkName(name, "device name"));
    if (ctx.json) printJson(ctx.io, { group, device: name, deleted: true });
    ctx.console.info(`Deleted device ${name} from group ${group}.`);
    return 0;
  },
};
