/** The group page's filter form: name prefix, state, online, expiring and overdue, kept in the URL. */

import type { DeviceFilters } from "./api.ts";
import { h } from "./dom.ts";
import type { GroupQuery } from "./router.ts";

const HOURS = { "24h": 24, "7d": 24 * 7 } as const;

/** The API's filters for what the operator chose (`expiring` counted from `now`). */
export function apiFilters(query: GroupQuery, now = Date.now()): DeviceFilters {
  const filters: DeviceFilters = {};
  if (query.q) filters.q = query.q;
  if (query.state) filters.state = query.state;
  if (query.online === "true" || query.online === "false") filters.online = query.online;
  if (query.overdue === "true") filters.overdue = "true";
  const hours = HOURS[query.expiring as keyof typeof HOURS];
  if (hours) filters.expiringBefore = new Date(now + hours * 3_600_000).toISOString();
  return filters;
}

/** Whether any filter is set. */
export function isFiltered(query: GroupQuery): boolean {
  return Object.keys(apiFilters(query)).length > 0;
}

function select(id: string, label: string, value: string | undefined, options: [string, string][]) {
  const el = h("select", { id, name: id });
  for (const [v, text] of options)
    el.append(h("option", { value: v, selected: v === (value ?? "") }, text));
  return h("div", { class: "field" }, h("label", { for: id }, label), el);
}

/**
 * The form; `apply` gets the new query (page one) and, when a control applied it as it changed, that
 * control's id. Disabled, with the reason, when the server cannot filter: an unfiltered list must never pass
 * for a filtered one.
 */
export function filterForm(
  query: GroupQuery,
  enabled: boolean,
  apply: (query: GroupQuery, changed?: string) => void,
): HTMLElement {
  const search = h("input", {
    type: "search",
    id: "q",
    name: "q",
    value: query.q ?? "",
    autocomplete: "off",
    spellcheck: "false",
  });
  const overdue = h("input", {
    type: "checkbox",
    id: "overdue",
    name: "overdue",
    checked: query.overdue === "true",
  });
  const fields = h(
    "fieldset",
    { disabled: !enabled },
    h("legend", {}, "Filter devices"),
    h("div", { class: "field" }, h("label", { for: "q" }, "Name starts with"), search),
    select("state", "State", query.state, [
      ["", "any"],
      ["created", "created"],
      ["provisioned", "provisioned"],
      ["revoked", "revoked"],
    ]),
    select("online", "Online", query.online, [
      ["", "any"],
      ["true", "online"],
      ["false", "offline"],
    ]),
    select("expiring", "Certificate expires", query.expiring, [
      ["", "any time"],
      // Hint: the API's expiringBefore includes certificates already expired (the most urgent first), while
      // the figures "Expiring within 24 h / 7 days" count only those still valid: the words say which.
      ["24h", "within 24 hours, or expired"],
      ["7d", "within 7 days, or expired"],
    ]),
    h(
      "div",
      { class: "field check" },
      overdue,
      h("label", { for: "overdue" }, "Overdue renewals only"),
    ),
    h(
      "div",
      { class: "field buttons" },
      h("button", { type: "submit", class: "button primary" }, "Apply"),
      h("button", { type: "reset", class: "button" }, "Clear"),
    ),
  );
  const form = h(
    "form",
    { class: "filters", role: "search", method: "post", "aria-label": "Devices" },
    fields,
  );
  const read = (): GroupQuery => {
    const data = new FormData(form);
    const next: GroupQuery = {};
    for (const key of ["q", "state", "online", "expiring"] as const) {
      // Hint: names are lowercase, so a search typed in capitals still finds them.
      const value = String(data.get(key) ?? "")
        .trim()
        .toLowerCase();
      if (value) next[key] = value;
    }
    if (overdue.checked) next.overdue = "true";
    return next;
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply(read());
  });
  form.addEventListener("reset", (event) => {
    event.preventDefault();
    apply({});
  });
  for (const id of ["state", "online", "expiring", "overdue"])
    form.querySelector(`#${id}`)?.addEventListener("change", () => apply(read(), id));
  return form;
}
