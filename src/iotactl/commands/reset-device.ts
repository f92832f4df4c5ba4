/** `iotactl reset device -g <group> <device>`: lets a device provision again (with a new key). */

import type { Command } from "../command.ts";
import { GROUP_FLAG, checkName, groupFlag, positionals } from "../flags.ts";
import { printJson } from "../output.ts";

/** The `reset device` command. */
export const resetDevice: Command = {
  words: ["reset", "device"],
  summary: "reset a device so it may provision again",
  usage: "reset device -g <group> <device> [--forget-key]",
  description: `Resets a device to the "created" state: its certificates are revoked and it may provision
again with a new key. To do so it must prove it holds the key it had before (iotad does this by
itself), so a stolen token cannot win the name back. --forget-key drops that proof: for a device
that lost its key (storage replaced), or a name someone else provisioned first (squatting); its
token or the group secret alone then provisions it, so rotate the group secret first when it may
have leaked (iotactl rotate secret).`,
  flags: [
    GROUP_FLAG,
    {
      name: "forget-key",
      type: "boolean",
      help: "let any key provision the device again (it lost its key, or the name was squatted)",
    },
  ],
  examples: [
    "iotactl reset device -g room2-lights test-device-123",
    "iotactl reset device -g room2-lights test-device-123 --forget-key   # its storage was replaced",
  ],
  async run(ctx) {
    const group = groupFlag(ctx.args);
    const [name = ""] = positionals(ctx.args, ["<device>"]);
    const forgetKey = ctx.args.values["forget-key"] === true;
    const device = await ctx.admin().resetDevice(group, checkName(name, "device name"), forgetKey);
    if (ctx.json) printJson(ctx.io, device);
    ctx.console.info(`Reset device ${name} in group ${group}; state: ${device.state}.`);
    return 0;
  },
};
