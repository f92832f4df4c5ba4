/** `iotactl list devices -g <group>`: every device of a group (or those a filter picks), streamed page by page. */

import type { Command } from "../command.ts";
import { usageError } from "../exit-codes.ts";
import {
  GROUP_FLAG,
  groupFlag,
  positionals,
  stringFlag,
  type Flag,
  type ParsedArgs,
} from "../flags.ts";
import { counted, row } from "../output.ts";

const WIDTHS = [40, 12, 24, 32, 7];
const STATES = ["created", "provisioned", "revoked"];

/** The filter flags. */
const FILTER_FLAGS: Flag[] = [
  {
    name: "state",
    type: "string",
    value: "STATE",
    help: "only devices in this state: created, provisioned or revoked",
  },
  {
    name: "online",
    type: "boolean",
    help: "only devices online (a broker session or a retained ready message)",
  },
  {
    name: "offline",
    type: "boolean",
    help: "only devices offline (devices never seen are neither)",
  },
  {
    name: "overdue",
    type: "boolean",
    help: "only devices whose planned renewal is overdue, most overdue first",
  },
];

/** The listing's query parameters from the filter flags, checked before any request. */
function filters(args: ParsedArgs): Record<string, string> {
  const query: Record<string, string> = {};
  const state = stringFlag(args, "state");
  if (state !== undefined) {
    if (!STATES.includes(state))
      throw usageError(`--state must be one of ${STATES.join(", ")}, got ${JSON.stringify(state)}`);
    query.state = state;
  }
  if (args.values.online && args.values.offline)
    throw usageError("--online and --offline exclude each other: choose one");
  if (args.values.online) query.online = "true";
  if (args.values.offline) query.online = "false";
  if (args.values.overdue) query.overdue = "true";
  return query;
}

/** The `list devices` command. */
export const listDevices: Command = {
  words: ["list", "devices"],
  summary: "list the devices of a group",
  usage: "list devices -g <group> [--state STATE] [--online | --offline] [--overdue] [--quiet]",
  description: `Lists a group's devices in name order on stdout: name, state, certificate expiry, serial,
readiness (yes, no, or - when never seen) and the next planned renewal. The filters combine;
--overdue lists the most overdue first. Pages are fetched and printed one after another, so a
group of a million devices streams. With --json the output is one JSON array. With --quiet, only
the names, one per line, every page (a names file for iotactl gen config -f, or a shell loop).`,
  flags: [
    GROUP_FLAG,
    ...FILTER_FLAGS,
    {
      name: "quiet",
      short: "q",
      type: "boolean",
      help: "print only the device names, one per line",
    },
  ],
  examples: [
    "iotactl list devices -g room2-lights",
    "iotactl list devices -g room2-lights --offline            # provisioned devices gone quiet",
    "iotactl list devices -g room2-lights --overdue --json > overdue.json",
    "iotactl list devices -g room2-lights --state created      # not provisioned yet",
    "iotactl list devices -g room2-lights -q > device_names.txt   # the names only",
  ],
  async run(ctx) {
    const group = groupFlag(ctx.args);
    positionals(ctx.args, []);
    const query = filters(ctx.args);
    const out = ctx.io.stdout;
    const quiet = ctx.args.values.quiet === true && !ctx.json;
    let count = 0;
    // Hint: the header comes with the first page, so an unknown group prints nothing on stdout.
    let headed = ctx.json || quiet;
    const head = () => {
      if (!headed)
        out.write(row(["NAME", "STATE", "NOT AFTER", "SERIAL", "ONLINE", "RENEW AT"], WIDTHS));
      headed = true;
    };
    for await (const d of ctx.admin().devices(group, 1000, query)) {
      head();
      const online = d.online === null ? "-" : d.online ? "yes" : "no";
      if (quiet) out.write(`${d.name}\n`);
      else if (ctx.json) out.write(`${count === 0 ? "[\n" : ",\n"}  ${JSON.stringify(d)}`);
      else
        out.write(
          row(
            [d.name, d.state, d.notAfter ?? "-", d.serial ?? "-", online, d.renewAt ?? "-"],
            WIDTHS,
          ),
        );
      count += 1;
    }
    head();
    if (ctx.json) out.write(count === 0 ? "[]\n" : "\n]\n");
    ctx.console.info(`${counted(count, "device")} in group ${group}`);
    return 0;
  },
};
