/** `iotactl reset device -g <group> <device>`: lets a device provision again (with a new key). */

import type { Command } from "../command.ts";
import { GROUP_FLAG, checkName, groupFlag, positionals } from "../flags.ts";
import { printJson } from "../output.ts";

/** The `reset device` command. */
export const resetDevice: Command = {
  words: ["reset", "device"],
  summary: "reset a device so it may provision again",
  usage: "reset device -g <group> <device>",
  description: `Resets a device to the "created" state: its certificates are revoked and it may provision
again with a new key (e.g. after its storage was replaced).`,
  flags: [GROUP_FLAG],
  examples: ["iotactl reset device -g room2-lights test-device-123"],
  async run(ctx) {
    const group = groupFlag(ctx.args);
    const [name = ""] = positionals(ctx.args, ["<device>"]);
    const device = await ctx.admin().resetDevice(group, checkName(name, "device name"));
    if (ctx.json) printJson(ctx.io, device);
    ctx.console.info(`Reset device ${name} in group ${group}; state: ${device.state}.`);
    return 0;
  },
};
