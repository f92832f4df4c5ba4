/** The overview: every group with its counts, the renewal forecast and the expiry timeline. */

import type { FleetStatus, GroupView } from "./api-types.ts";
import { dataTable, h, notice, type Column } from "./dom.ts";
import { expiryTimeline } from "./expiry-timeline.ts";
import { forecastChart } from "./forecast-chart.ts";
import { count, duration, timeCell, utc } from "./format.ts";
import { routeHash, type Route } from "./router.ts";
import { statusStats } from "./stats.ts";
import type { Page, View } from "./view.ts";

type OverviewRoute = Extract<Route, { page: "overview" }>;

const groupLink = (name: string) =>
  h("a", { href: routeHash({ page: "group", group: name, query: {} }) }, name);

/** The overview page. */
export const overviewPage: Page<OverviewRoute> = async (ctx) => {
  const { cursor } = ctx.route;
  const status = await ctx.api.fleetStatus(cursor);
  const heading = h("h1", { tabindex: -1 }, "Fleet overview");
  if (!status) return degraded(heading, await ctx.api.groups());
  // Hint: on a later page of groups, say which groups these are and land there, as the group page does.
  const shown =
    cursor === undefined
      ? undefined
      : h("p", { id: "groups-shown", class: "results", tabindex: -1 }, groupsShown(status, cursor));
  const pager = h("nav", { class: "pager", "aria-label": "Pages of groups" });
  if (cursor !== undefined)
    pager.append(h("a", { href: routeHash({ page: "overview" }) }, "First groups"));
  if (status.nextCursor)
    pager.append(
      h("a", { href: routeHash({ page: "overview", cursor: status.nextCursor }) }, "More groups"),
    );
  const body: Node[] = [
    heading,
    h("p", { class: "muted" }, "As of ", h("time", { datetime: status.at }, utc(status.at)), "."),
    statusStats(status, "Fleet"),
    h("h2", {}, "Groups"),
    ...(shown ? [shown] : []),
    groupsTable(status),
  ];
  if (pager.childElementCount > 0) body.push(pager);
  body.push(
    h("h2", {}, "Renewal forecast"),
    forecastChart(status.forecast),
    h("h2", {}, "Certificate expiry"),
    expiryTimeline(status),
  );
  return { title: "Overview", body, ...(shown ? { focus: shown } : {}) };
};

/** "Groups after zone-096: 4 shown.": which page of groups a later page is. */
function groupsShown(status: FleetStatus, cursor: string): string {
  const n = status.groups?.length ?? 0;
  if (n === 0) return `No groups after ${cursor}.`;
  return `Groups after ${cursor}: ${count(n)} shown${status.nextCursor ? ", more follow" : ""}.`;
}

const GROUP_COLUMNS: Column[] = [
  { title: "Group" },
  ...[
    "Devices",
    "Provisioned",
    "Revoked",
    "Online",
    "Offline",
    "Expiring within 24 h",
    "Expiring within 7 days",
    "Overdue renewals",
  ].map((title) => ({ title, numeric: true })),
];

function groupsTable(status: FleetStatus): HTMLElement {
  const groups = status.groups ?? [];
  if (groups.length === 0)
    return notice("info", "No groups yet: iotactl add group NAME creates one.");
  return dataTable(
    "groups",
    "Groups and their devices",
    GROUP_COLUMNS,
    groups.map((g) => [
      groupLink(g.name),
      ...[g.devices.total, g.devices.provisioned, g.devices.revoked, g.online, g.offline]
        .concat([g.expiringWithin24h, g.expiringWithin7d, g.overdueRenewals])
        .map(count),
    ]),
  );
}

/** Without the fleet API: the groups and their device counts, and a clear word about what is missing. */
function degraded(heading: HTMLElement, groups: GroupView[]): View {
  const table = dataTable(
    "groups",
    "Groups and their devices",
    [
      { title: "Group" },
      { title: "Devices", numeric: true },
      { title: "Certificate lifetime" },
      { title: "Renew grace" },
      { title: "Created" },
    ],
    groups.map((g) => [
      groupLink(g.name),
      g.deviceCount === undefined ? "—" : count(g.deviceCount),
      duration(g.validity),
      duration(g.renewGrace),
      timeCell(g.createdAt),
    ]),
  );
  return {
    title: "Overview",
    body: [
      heading,
      notice(
        "info",
        "Fleet status unavailable: this server does not answer GET /v1/status, so online, expiring and overdue counts, the renewal forecast and the expiry timeline cannot be shown.",
      ),
      h("h2", {}, "Groups"),
      groups.length === 0
        ? notice("info", "No groups yet: iotactl add group NAME creates one.")
        : table,
    ],
  };
}
