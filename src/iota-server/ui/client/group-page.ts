/** A group: its counts and its devices, filtered and paged by the server (never loaded all at once). */

import { apiFilters, filterForm, isFiltered } from "./device-filters.ts";
import { deviceTable } from "./device-table.ts";
import { h, notice } from "./dom.ts";
import { count, duration } from "./format.ts";
import { routeHash, type GroupQuery, type Route } from "./router.ts";
import { statusStats } from "./stats.ts";
import { ApiError } from "./api.ts";
import type { Device, ListPage } from "./api-types.ts";
import type { Page, PageContext } from "./view.ts";

type GroupRoute = Extract<Route, { page: "group" }>;

/** Devices per page: one request of this many, whatever the group's size. */
export const PAGE_SIZE = 50;

/**
 * The cursors of the pages seen, per group and filters ("" is page one), so "Previous page" knows where
 * to go; a page opened from a bookmarked cursor offers "First page" instead.
 */
const trails = new Map<string, string[]>();

/**
 * The filter control whose change led to the page of `hash`, focused again there. Hint: a select applies as
 * it changes, and from the keyboard each arrow key is a change; were the focus moved away, the next arrow key
 * would no longer reach the select and a keyboard user could only ever pick the option next to the current one.
 */
let changedControl: { hash: string; id: string } | undefined;

/** The group page. */
export const groupPage: Page<GroupRoute> = async (ctx) => {
  const { group: name, query } = ctx.route;
  // Hint: read before the first await, so a slower render of an earlier change cannot take it.
  const refocus = changedControl?.hash === routeHash(ctx.route) ? changedControl.id : undefined;
  if (refocus) changedControl = undefined;
  const [group, status] = await Promise.all([ctx.api.group(name), ctx.api.groupStatus(name)]);
  const fleet = status !== undefined;
  const filtered = fleet && isFiltered(query);
  const page = await devicesOrRefusal(ctx, name, query, fleet);

  const { cursor: _, ...filters } = query;
  const trailKey = JSON.stringify([name, filtered ? filters : {}]);
  const trail = trails.get(trailKey) ?? [""];
  trails.set(trailKey, trail);
  const index = trail.indexOf(query.cursor ?? "");
  const go = (next: GroupQuery, changed?: string) => {
    const route: Route = { page: "group", group: name, query: next };
    changedControl = changed ? { hash: routeHash(route), id: changed } : undefined;
    ctx.go(route);
  };

  const total = status?.devices.total ?? group.deviceCount;
  const first = index >= 0 ? index * PAGE_SIZE + 1 : undefined;
  const shown = page.refusal ?? resultsText(page.items.length, first, filtered, total);
  const results = h(
    "p",
    {
      id: "results",
      class: page.refusal ? "results notice notice-error" : "results",
      tabindex: -1,
    },
    shown,
  );

  const pager = h("nav", { class: "pager", "aria-label": "Pages of devices" });
  if (index > 0) {
    const previous = trail[index - 1] as string;
    pager.append(
      pagerButton("Previous page", () =>
        go({ ...filters, ...(previous ? { cursor: previous } : {}) }),
      ),
    );
  } else if (index < 0) pager.append(pagerButton("First page", () => go(filters)));
  if (page.nextCursor) {
    const next = page.nextCursor;
    pager.append(
      pagerButton("Next page", () => {
        if (index >= 0) trail.splice(index + 1, trail.length, next);
        go({ ...filters, cursor: next });
      }),
    );
  }

  const heading = h("h1", { tabindex: -1 }, name);
  const form = filterForm(fleet ? query : {}, fleet, go);
  const control = refocus ? form.querySelector<HTMLElement>(`#${refocus}`) : null;
  return {
    title: name,
    body: [
      breadcrumb(name),
      heading,
      h(
        "p",
        { class: "muted" },
        `Certificates live ${duration(group.validity)}; a device may still renew ${duration(group.renewGrace)} after expiry.`,
      ),
      status
        ? statusStats(status, `Group ${name}`)
        : notice(
            "info",
            "Fleet status unavailable: this server does not answer GET /v1/groups/{group}/status. Online, expiring and overdue counts and the filters need it; the list below is every device, in name order.",
          ),
      form,
      results,
      page.items.length > 0 ? deviceTable(page.items, `Devices of ${name}`) : null,
      pager,
    ].filter((n): n is HTMLElement => n !== null),
    // Hint: after paging or filtering, the reader lands on what changed, not back at the top; a refused
    // filter is read out first, even when a control's change led here.
    focus: page.refusal
      ? results
      : (control ?? (query.cursor !== undefined || isFiltered(query) ? results : heading)),
  };
};

/**
 * One page of devices; a filter the server refuses (400, naming it) is shown beside the form instead of
 * replacing the page, so the operator can correct it.
 */
async function devicesOrRefusal(
  ctx: PageContext<GroupRoute>,
  group: string,
  query: GroupQuery,
  fleet: boolean,
): Promise<ListPage<Device> & { refusal?: string }> {
  try {
    return await ctx.api.devices(group, PAGE_SIZE, query.cursor, fleet ? apiFilters(query) : {});
  } catch (error) {
    if (error instanceof ApiError && error.status === 400)
      return { items: [], refusal: `The server refused these filters: ${error.message}` };
    throw error;
  }
}

/** "Devices 51–100 of 120", "Devices 1–50 matching the filters", or why the table is empty. */
function resultsText(
  n: number,
  first: number | undefined,
  filtered: boolean,
  total?: number,
): string {
  if (n === 0) return filtered ? "No device matches these filters." : "This group has no devices.";
  const range =
    first === undefined ? `${count(n)} devices` : `Devices ${count(first)}–${count(first + n - 1)}`;
  if (filtered) return `${range} matching the filters`;
  return total === undefined ? range : `${range} of ${count(total)}`;
}

function pagerButton(label: string, click: () => void): HTMLButtonElement {
  const button = h("button", { type: "button", class: "button" }, label);
  button.addEventListener("click", click);
  return button;
}

/** Overview › group. */
export function breadcrumb(group: string, device?: string): HTMLElement {
  const items = [h("li", {}, h("a", { href: "#/" }, "Overview"))];
  const groupHash = routeHash({ page: "group", group, query: {} });
  items.push(
    h(
      "li",
      {},
      device ? h("a", { href: groupHash }, group) : h("span", { "aria-current": "page" }, group),
    ),
  );
  if (device) items.push(h("li", {}, h("span", { "aria-current": "page" }, device)));
  return h("nav", { class: "breadcrumb", "aria-label": "Breadcrumb" }, h("ol", {}, ...items));
}
