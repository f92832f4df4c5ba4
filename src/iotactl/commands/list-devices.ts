/** `iotactl list devices -g <group>`: every device of a group, streamed page by page. */

import type { Command } from "../command.ts";
import { GROUP_FLAG, groupFlag, positionals } from "../flags.ts";
import { row } from "../output.ts";

const WIDTHS = [40, 12, 24];

/** The `list devices` command. */
export const listDevices: Command = {
  words: ["list", "devices"],
  summary: "list the devices of a group",
  usage: "list devices -g <group>",
  description: `Lists a group's devices in name order on stdout: name, state, certificate expiry, serial.
Pages are fetched and printed one after another, so a group of a million devices streams.
With --json the output is one JSON array.`,
  flags: [GROUP_FLAG],
  examples: [
    "iotactl list devices -g room2-lights",
    "iotactl list devices -g room2-lights --json > devices.json",
  ],
  async run(ctx) {
    const group = groupFlag(ctx.args);
    positionals(ctx.args, []);
    const out = ctx.io.stdout;
    let count = 0;
    if (!ctx.json) out.write(row(["NAME", "STATE", "NOT AFTER", "SERIAL"], WIDTHS));
    for await (const d of ctx.admin().devices(group)) {
      if (ctx.json) out.write(`${count === 0 ? "[\n" : ",\n"}  ${JSON.stringify(d)}`);
      else out.write(row([d.name, d.state, d.notAfter ?? "-", d.serial ?? "-"], WIDTHS));
      count += 1;
    }
    if (ctx.json) out.write(count === 0 ? "[]\n" : "\n]\n");
    ctx.console.info(`${count} devices in group ${group}`);
    return 0;
  },
};
