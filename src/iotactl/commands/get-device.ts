/** `iotactl get device -g <group> <device>`: one device's state and certificate. */

import type { Command } from "../command.ts";
import { GROUP_FLAG, checkName, groupFlag, positionals } from "../flags.ts";
import { deviceFields, printFields, printJson } from "../output.ts";

/** The `get device` command. */
export const getDevice: Command = {
  words: ["get", "device"],
  summary: "show a device",
  usage: "get device -g <group> <device>",
  description:
    "Shows a device: state (created, provisioned, revoked), serial, validity, provisioning and last renewal.",
  flags: [GROUP_FLAG],
  examples: [
    "iotactl get device -g room2-lights test-device-123",
    "iotactl get device -g room2-lights test-device-123 --json",
  ],
  async run(ctx) {
    const group = groupFlag(ctx.args);
    const [name = ""] = positionals(ctx.args, ["<device>"]);
    const device = await ctx.admin().getDevice(group, checkName(name, "device name"));
    if (ctx.json) printJson(ctx.io, device);
    else printFields(ctx.io, deviceFields(device));
    return 0;
  },
};
