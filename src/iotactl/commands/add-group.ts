/** `iotactl add group <name>`: creates a group and prints its provisioning secret, and nothing else, on stdout. */

import { parseDuration } from "../../core/duration.ts";
import type { Command } from "../command.ts";
import { checkName, positionals, stringFlag, type ParsedArgs } from "../flags.ts";
import { CliError, EXIT, isCliError, usageError } from "../exit-codes.ts";
import { printJson } from "../output.ts";
import { writeProblem } from "../file-errors.ts";
import { checkEnrollment, ENROLLMENT_FLAGS, enrollmentFlags } from "../enrollment-flags.ts";
import { REGISTERED } from "../../core/enrollment.ts";
import {
  MAX_GRACE_SECONDS,
  MAX_VALIDITY_SECONDS,
  MIN_VALIDITY_SECONDS,
} from "../../core/profile.ts";

function durationFlag(
  args: ParsedArgs,
  name: string,
  range: { min: number; max: number; words: string },
): string | undefined {
  const text = stringFlag(args, name);
  if (text === undefined) return undefined;
  const seconds = parseDuration(text);
  if (seconds === undefined)
    throw usageError(
      `--${name} must be a duration such as 30d, 12h, 90m or a number of seconds, got ${JSON.stringify(text)}`,
    );
  if (seconds < range.min || seconds > range.max)
    throw usageError(`--${name} must be ${range.words}, got ${JSON.stringify(text)}`);
  return text;
}

/** The lifetimes and graces the service accepts (core/profile.ts), in the words of the flags. */
const VALIDITY = {
  min: MIN_VALIDITY_SECONDS,
  max: MAX_VALIDITY_SECONDS,
  words: "between 1m and 398d",
};
const GRACE = { min: 0, max: MAX_GRACE_SECONDS, words: "between 0 and 365d" };

/** The `add group` command. */
export const addGroup: Command = {
  words: ["add", "group"],
  summary: "create a group; prints its provisioning secret",
  usage:
    "add group <name> [--validity 30d] [--renew-grace 7d] [--enrollment any --name-pattern P [--enroll-per-hour N]]",
  description: `Creates a device group. The group's provisioning secret is printed on stdout, alone on one
line, so it can be captured: iotactl add group room2-lights > prov_secret.txt
It is shown only once (rotate it with "iotactl rotate secret"); store it safely.
Names: lowercase ASCII letters and digits, words separated by single dashes, 1-63 characters.
An existing group is not changed: the command fails with exit code 4.

Enrollment says what the secret may do. registered (the default): it provisions only devices
created in advance (iotactl add device). any: it also creates a device the first time one
provisions, when the name matches --name-pattern, at most --enroll-per-hour (default 1000) per
hour: for golden images whose devices name themselves from their hardware. A leaked secret then
lets its holder create names within the pattern (see SECURITY.md); change it later with
"iotactl set group".`,
  flags: [
    {
      name: "validity",
      type: "string",
      value: "DURATION",
      help: "certificate lifetime of the group's devices (default 30d; 1m to 398d)",
    },
    {
      name: "renew-grace",
      type: "string",
      value: "DURATION",
      help: "how long after expiry a certificate may still renew (default 7d; at most 365d)",
    },
    ...ENROLLMENT_FLAGS,
  ],
  examples: [
    "iotactl add group room2-lights > prov_secret.txt",
    "iotactl add group test-bench --validity 1h --renew-grace 0",
    "iotactl add group room2-lights --json      # the whole group, secret included, as JSON",
    "iotactl add group line-7 --enrollment any --name-pattern 'dev-*' > prov_secret.txt   # golden images",
  ],
  async run(ctx) {
    const [name = ""] = positionals(ctx.args, ["<name>"]);
    checkName(name, "group name");
    const enrollment = enrollmentFlags(ctx.args);
    checkEnrollment(REGISTERED, enrollment);
    const body: Parameters<ReturnType<typeof ctx.admin>["createGroup"]>[0] = {
      name,
      ...enrollment,
    };
    const validity = durationFlag(ctx.args, "validity", VALIDITY);
    const grace = durationFlag(ctx.args, "renew-grace", GRACE);
    if (validity !== undefined) body.validity = validity;
    if (grace !== undefined) body.renewGrace = grace;
    let group: Awaited<ReturnType<ReturnType<typeof ctx.admin>["createGroup"]>>;
    try {
      group = await ctx.admin().createGroup(body);
    } catch (error) {
      // Hint: `iotactl add group g > prov_secret.txt` run twice: the shell emptied the file before iotactl ran.
      if (
        isCliError(error) &&
        error.exitCode === EXIT.CONFLICT &&
        !ctx.json &&
        !ctx.io.stdout.isTTY
      )
        throw new CliError(
          EXIT.CONFLICT,
          `${error.message}. Its secret was shown only when it was created; if this command's output went to a file, that file is now empty. A new secret: iotactl rotate secret -g ${name} > FILE (device configs made from the old one must be generated again)`,
        );
      throw error;
    }
    if (ctx.json) printJson(ctx.io, group);
    else ctx.io.stdout.write(`${group.provisioningSecret}\n`);
    // Hint: the secret is shown only now; a full disk under `> prov_secret.txt` must say how to get another.
    await ctx.io.stdout.flushed().catch((error: unknown) => {
      throw new CliError(
        EXIT.FAILURE,
        `group ${name} was created, but its provisioning secret could not be written to the output: ${writeProblem(error)}; it is not shown again: once the output can be written, get a new one with iotactl rotate secret -g ${name} > FILE`,
      );
    });
    ctx.console.info(
      `Created group ${name}. Store its provisioning secret safely: it is not shown again.`,
    );
    return 0;
  },
};
