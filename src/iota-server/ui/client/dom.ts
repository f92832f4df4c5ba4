/** Building DOM without HTML strings: every text goes in as text, so no API value can become markup. */

/** Attributes of an element: `false`/`undefined` leave one out, `true` sets it empty. */
export type Attrs = Record<string, string | number | boolean | undefined>;

/** What may go inside an element. */
export type Child = Node | string | number | null | undefined | false;

/** An HTML element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element with attributes and children. */
export function svg<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  setAttrs(el, attrs);
  append(el, children);
  return el;
}

function setAttrs(el: Element, attrs: Attrs): void {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? "" : String(value));
  }
}

function append(el: Element, children: Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
}

/** The element with id `id`; the page always has it. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el as T;
}

/** A notice in the page: `info` for what this server cannot show, `error` for a failure. */
export function notice(kind: "info" | "error", ...children: Child[]): HTMLElement {
  return h(
    "p",
    { class: `notice notice-${kind}`, role: kind === "error" ? "alert" : undefined },
    ...children,
  );
}

/** A `<dl>` of label/value pairs. */
export function details(rows: [string, Child][]): HTMLDListElement {
  const list = h("dl", { class: "details" });
  for (const [label, value] of rows)
    list.append(h("div", {}, h("dt", {}, label), h("dd", {}, value)));
  return list;
}

/** A column of a data table: its heading, and whether its cells are numbers (right-aligned). */
export interface Column {
  title: string;
  numeric?: boolean;
}

/**
 * A table named by its caption; each row's first cell is its row header. Every cell carries its column's
 * title, so on a phone each row stacks into a labelled card instead of scrolling sideways. Hint: the roles
 * are explicit because a table restyled with CSS display values may lose its native semantics.
 */
export function dataTable(
  id: string,
  caption: string,
  columns: Column[],
  rows: Child[][],
): HTMLElement {
  const cell = (column: Column | undefined, value: Child, index: number) =>
    index === 0
      ? h("th", { scope: "row", role: "rowheader", "data-label": column?.title }, value)
      : h(
          "td",
          { role: "cell", class: column?.numeric ? "num" : undefined, "data-label": column?.title },
          value,
        );
  const table = h(
    "table",
    { class: "data", role: "table", "aria-labelledby": `${id}-caption` },
    h("caption", { id: `${id}-caption` }, caption),
    h(
      "thead",
      { role: "rowgroup" },
      h(
        "tr",
        { role: "row" },
        ...columns.map((c) =>
          h(
            "th",
            { scope: "col", role: "columnheader", class: c.numeric ? "num" : undefined },
            c.title,
          ),
        ),
      ),
    ),
    h(
      "tbody",
      { role: "rowgroup" },
      ...rows.map((row) => h("tr", { role: "row" }, ...row.map((v, i) => cell(columns[i], v, i)))),
    ),
  );
  return h(
    "div",
    { class: "table-scroll", role: "region", "aria-labelledby": `${id}-caption`, tabindex: 0 },
    table,
  );
}
