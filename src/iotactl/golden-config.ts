/**
 * `iotactl gen config --golden`: the one iotad configuration of a golden image. Every device names itself
 * from its hardware (`"device": { "from", "prefix" }`) and provisions with the group's secret, so the
 * secret is in the image: the group's enrollment decides what a copy of it is worth (SECURITY.md).
 */

import { resolve } from "node:path";
import type { AgentConfigInput } from "../core/agent-config.ts";
import { parseDeviceSource } from "../core/device-source.ts";
import { PREFIX_RULE, prefixProblem } from "../core/hardware-name.ts";
import { matchesNamePattern } from "../core/name-pattern.ts";
import type { GroupView } from "../core/wire.ts";
import type { CommandContext } from "./command.ts";
import { usageError } from "./exit-codes.ts";
import { requiredFlag, stringFlag } from "./flags.ts";
import { printJson } from "./output.ts";

/** The config's fields besides the device and the credential (server, trust, MQTT, ...). */
export type GoldenTemplate = Omit<AgentConfigInput, "device" | "token">;

/** Checks every golden-only flag before anything is read or sent; the source and prefix. */
export function goldenFlags(ctx: CommandContext): { from: string; prefix: string; out: string } {
  if (ctx.args.positionals.length > 0 || stringFlag(ctx.args, "from-file") !== undefined)
    throw usageError(
      "--golden writes one config for every device, named by its hardware: give --device-from SOURCE, not device names",
    );
  const from = requiredFlag(ctx.args, "device-from", "with --golden (e.g. file:/etc/machine-id)");
  const parsed = parseDeviceSource(from);
  if (!parsed.ok) throw usageError(`--device-from ${parsed.problem}`);
  const prefix = stringFlag(ctx.args, "prefix") ?? "";
  const problem = prefixProblem(prefix);
  if (problem !== undefined)
    throw usageError(`--prefix ${JSON.stringify(prefix)} ${problem}; a prefix is ${PREFIX_RULE}`);
  const out = requiredFlag(ctx.args, "out", "with --golden: the file to write (e.g. golden.json)");
  if (!out.endsWith(".json"))
    throw usageError(`--out names the one file --golden writes, e.g. golden.json; got ${out}`);
  return { from, prefix, out: resolve(ctx.io.cwd, out) };
}

/**
 * Writes the golden config (0600) and warns about what a copy of it exposes under the group's enrollment
 * (`view`; `undefined` with --offline, when the enrollment is unknown).
 */
export function writeGolden(
  ctx: CommandContext,
  flags: { from: string; prefix: string; out: string },
  template: GoldenTemplate,
  secret: string,
  group: string,
  view: GroupView | undefined,
): number {
  const config: AgentConfigInput = {
    ...template,
    device: { from: flags.from, prefix: flags.prefix },
    secret,
  };
  ctx.io.files.writeFile(flags.out, `${JSON.stringify(config, null, 2)}\n`, 0o600);
  if (ctx.json) printJson(ctx.io, { file: flags.out });
  else ctx.io.stdout.write(`${flags.out}\n`);
  const warnings =
    view === undefined ? offlineGoldenWarnings(group) : goldenWarnings(view, flags.prefix);
  for (const line of warnings) ctx.console.warn(line);
  ctx.console.info(
    `Wrote the golden config of group ${group} to ${flags.out}: put it into the image as /etc/iotad/config.json (mode 0600 before the package is installed, which makes it root:iotad 0640); each device names itself from ${flags.from}${flags.prefix === "" ? "" : ` with prefix ${flags.prefix}`}. Check it on a board with: iotad check-config`,
  );
  return 0;
}

/** The first warning of every golden config: it holds the group's secret. */
const holdsSecret = (g: string) =>
  `this config holds the provisioning secret of group ${g}, not a per-device token: whoever copies it out of an image (or off a board) can provision with a key of their own`;

/** The warnings when the server was not asked (--offline): the enrollment that limits a copy is unknown. */
export function offlineGoldenWarnings(g: string): string[] {
  return [
    holdsSecret(g),
    `--offline: neither the group ${g}, nor its secret, nor its enrollment was checked; what a copy allows depends on the enrollment (iotactl get group ${g}), and a wrong secret shows only when boards boot (401 "The device token is not valid")`,
  ];
}

/** What a leaked image exposes, and how the group's enrollment limits it. */
export function goldenWarnings(group: GroupView, prefix: string): string[] {
  const g = group.name;
  const lines = [holdsSecret(g)];
  if (group.enrollment === "any") {
    lines.push(
      `group ${g} enrolls "any": a copy can also CREATE new devices named ${group.namePattern} (up to ${group.enrollPerHour} per hour) and take names no board has claimed yet; narrow the pattern, and end enrollment when the run is over: iotactl set group ${g} --enrollment registered`,
    );
    if (
      group.namePattern !== undefined &&
      !matchesNamePattern(group.namePattern, `${prefix}0f3a9c`)
    )
      lines.push(
        `names made with prefix ${JSON.stringify(prefix)} do not match the group's pattern ${group.namePattern}: such devices would be refused`,
      );
  } else
    lines.push(
      `group ${g} is "registered": a copy can provision only devices created in advance and not yet provisioned, and creates nothing; create the boards' names before they boot (iotactl add device -g ${g} --from-file serials.txt --normalize${prefix === "" ? "" : ` --prefix ${prefix}`})`,
    );
  lines.push(
    `a board that finds its name taken shows 409 ("possible squatting") in its status; then rotate the secret (iotactl rotate secret -g ${g}) and reset the name (iotactl reset device --forget-key); see SECURITY.md, "Golden images"`,
  );
  return lines;
}
