/** `iotactl revoke device -g <group> <device>`: revokes a device's certificates; it can no longer renew. */

import type { Command } from "../command.ts";
import { GROUP_FLAG, checkName, groupFlag, positionals } from "../flags.ts";
import { printJson } from "../output.ts";

/** The `revoke device` command. */
export const revokeDevice: Command = {
  words: ["revoke", "device"],
  summary: "revoke a device (CRL; no renewal, no broker access)",
  usage: "revoke device -g <group> <device>",
  description: `Revokes a device: its certificates go on the CRL, it can neither renew nor connect to a broker
that checks the CRL, and it cannot provision again until "iotactl reset device".`,
  flags: [GROUP_FLAG],
  examples: ["iotactl revoke device -g room2-lights test-device-123"],
  async run(ctx) {
    const group = groupFlag(ctx.args);
    const [name = ""] = positionals(ctx.args, ["<device>"]);
    const device = await ctx.admin().revokeDevice(group, checkName(name, "device name"));
    if (ctx.json) printJson(ctx.io, device);
    ctx.console.info(`Revoked device ${name} in group ${group}; state: ${device.state}.`);
    return 0;
  },
};
