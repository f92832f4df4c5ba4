/** `iotactl rotate secret -g <group>`: replaces a group's provisioning secret; prints the new one only. */

import type { Command } from "../command.ts";
import { GROUP_FLAG, groupFlag, positionals } from "../flags.ts";
import { printJson } from "../output.ts";
import { CliError, EXIT } from "../exit-codes.ts";
import { writeProblem } from "../file-errors.ts";

/** The `rotate secret` command. */
export const rotateSecret: Command = {
  words: ["rotate", "secret"],
  summary: "replace a group's provisioning secret; prints the new one",
  usage: "rotate secret -g <group>",
  description: `Replaces the group's provisioning secret and prints the new one, alone, on stdout.
Device tokens made from the old secret stop working for devices not yet provisioned (generate
their configs again); provisioned devices renew with their certificates and are not affected.`,
  flags: [GROUP_FLAG],
  examples: ["iotactl rotate secret -g room2-lights > prov_secret.txt"],
  async run(ctx) {
    const group = groupFlag(ctx.args);
    positionals(ctx.args, []);
    const rotated = await ctx.admin().rotateSecret(group);
    if (ctx.json) printJson(ctx.io, rotated);
    else ctx.io.stdout.write(`${rotated.provisioningSecret}\n`);
    // Hint: the old secret no longer works, so a new one that could not be written must be rotated again.
    await ctx.io.stdout.flushed().catch((error: unknown) => {
      throw new CliError(
        EXIT.FAILURE,
        `the provisioning secret of group ${group} was rotated, but the new one could not be written to the output: ${writeProblem(error)}; the old one no longer provisions: once the output can be written, run iotactl rotate secret -g ${group} > FILE again`,
      );
    });
    ctx.console.info(
      `Rotated the provisioning secret of group ${group}. Store it safely: it is not shown again.`,
    );
    ctx.console.warn(
      `Device configs and tokens made from the old secret no longer provision the group's devices that are not provisioned yet: generate them again (iotactl gen config). Provisioned devices renew as before.`,
    );
    return 0;
  },
};
