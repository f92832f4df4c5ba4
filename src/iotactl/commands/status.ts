/** `iotactl status [-g GROUP]`: the fleet summary: devices by state, readiness, expiry, overdue renewals. */

import type { FleetStatus, GroupStatus } from "../../core/fleet.ts";
import type { Command } from "../command.ts";
import { checkName, positionals, stringFlag } from "../flags.ts";
import { counted, printFields, printJson, row } from "../output.ts";

const WIDTHS = [30, 9, 9, 9, 9, 9];

/** Renewals planned in the forecast's first `hours` buckets. */
const renewalsWithin = (s: FleetStatus, hours: number) =>
  s.forecast.renewals
    .slice(0, (hours * 3600) / s.forecast.bucketSeconds)
    .reduce((a, b) => a + b, 0);

/** The summary lines for people. */
function summaryFields(s: FleetStatus): [string, string | number][] {
  const d = s.devices;
  const peak = Math.max(0, ...s.forecast.renewals);
  const at = s.forecast.renewals.indexOf(peak);
  const busiest = new Date(Date.parse(s.forecast.from) + at * s.forecast.bucketSeconds * 1000);
  return [
    [
      "devices",
      `${d.total} (created ${d.created}, provisioned ${d.provisioned}, revoked ${d.revoked})`,
    ],
    ["online", s.online],
    ["offline", s.offline],
    ["never seen", d.provisioned - s.online - s.offline],
    ["expiring within 24h", s.expiringWithin24h],
    ["expiring within 7d", s.expiringWithin7d],
    [
      "overdue renewals",
      `${s.overdueRenewals} (planned renewal passed more than ${s.overdueSlackSeconds} s ago)`,
    ],
    ["renewals next 24h", renewalsWithin(s, 24)],
    ["busiest hour", peak === 0 ? "-" : `${busiest.toISOString()} (${counted(peak, "renewal")})`],
  ];
}

/** The `status` command. */
export const status: Command = {
  words: ["status"],
  summary: "show the fleet's status",
  usage: "status [-g GROUP]",
  description: `Shows the fleet summary from the server: devices by state, how many provisioned devices are
online and offline (as the server's broker, or the broker it watches, sees them), certificates
expiring within 24 hours and 7 days, overdue renewals, and the renewals planned for the next day.
Without -g: the whole tenant, then one line per group. With --json: the server's summary as JSON
(devices.total, devices.created, devices.provisioned, devices.revoked, online, offline,
expiringWithin24h, expiringWithin7d, overdueRenewals, forecast; for the tenant every group in groups).`,
  flags: [{ name: "group", short: "g", type: "string", value: "GROUP", help: "one group only" }],
  examples: [
    "iotactl status",
    "iotactl status -g room2-lights",
    "iotactl status -g room2-lights --json | jq .online",
  ],
  async run(ctx) {
    positionals(ctx.args, []);
    const name = stringFlag(ctx.args, "group");
    const group = name === undefined ? undefined : checkName(name, "group name");
    const client = ctx.admin();
    const summary = await client.status(group);
    // Hint: the tenant's groups come a page at a time; the command shows them all.
    const groups: GroupStatus[] = [...(summary.groups ?? [])];
    for (let cursor = summary.nextCursor; cursor !== undefined; ) {
      const page = await client.status(undefined, cursor);
      groups.push(...(page.groups ?? []));
      cursor = page.nextCursor;
    }
    const { nextCursor: _, ...whole } = summary;
    if (group === undefined) whole.groups = groups;
    if (ctx.json) {
      printJson(ctx.io, whole);
      return 0;
    }
    printFields(ctx.io, summaryFields(whole));
    if (group !== undefined) return 0;
    const out = ctx.io.stdout;
    out.write("\n");
    out.write(row(["GROUP", "DEVICES", "ONLINE", "OFFLINE", "EXPIRING", "OVERDUE"], WIDTHS));
    for (const g of groups)
      out.write(
        row(
          [g.name, g.devices.total, g.online, g.offline, g.expiringWithin7d, g.overdueRenewals].map(
            String,
          ),
          WIDTHS,
        ),
      );
    return 0;
  },
};
