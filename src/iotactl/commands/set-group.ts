/** `iotactl set group <group>`: changes what a group's provisioning secret may do (its enrollment). */

import type { Command } from "../command.ts";
import { usageError } from "../exit-codes.ts";
import { checkEnrollment, ENROLLMENT_FLAGS, enrollmentFlags } from "../enrollment-flags.ts";
import { checkName, positionals } from "../flags.ts";
import { groupFields, printFields, printJson } from "../output.ts";

/** The `set group` command. */
export const setGroup: Command = {
  words: ["set", "group"],
  summary: "change a group's enrollment (what its secret may create)",
  usage: "set group <group> [--enrollment registered|any] [--name-pattern P] [--enroll-per-hour N]",
  description: `Changes the group's enrollment and prints the group (as "get group" does).
registered: the secret provisions only devices created in advance; the pattern and limit are
dropped. any: it also creates devices whose names match --name-pattern on first provisioning,
at most --enroll-per-hour per hour. A change applies to the next provisioning request at once;
devices already created or provisioned are not touched.`,
  flags: ENROLLMENT_FLAGS,
  examples: [
    "iotactl set group line-7 --enrollment any --name-pattern 'dev-*' --enroll-per-hour 500",
    "iotactl set group line-7 --name-pattern 'dev-2024-*'     # narrow the pattern",
    "iotactl set group line-7 --enrollment registered         # the production run is over",
  ],
  async run(ctx) {
    const [name = ""] = positionals(ctx.args, ["<group>"]);
    const group = checkName(name, "group name");
    const change = enrollmentFlags(ctx.args);
    if (Object.keys(change).length === 0)
      throw usageError("give at least one of --enrollment, --name-pattern, --enroll-per-hour");
    // Hint: checked against the group as it is, so a pattern for a registered group is refused here too.
    const client = ctx.admin();
    const current = await client.getGroup(group);
    checkEnrollment(
      current.enrollment === "any"
        ? {
            enrollment: "any",
            namePattern: current.namePattern ?? "",
            enrollPerHour: current.enrollPerHour ?? 1,
          }
        : { enrollment: "registered", namePattern: null, enrollPerHour: null },
      change,
    );
    const changed = await client.changeGroup(group, change);
    if (ctx.json) printJson(ctx.io, changed);
    else printFields(ctx.io, groupFields(changed));
    return 0;
  },
};
