/** SQL text and values as bun:sqlite takes them: the store's tagged templates and `$n` texts in SQLite's terms. */

/**
 * `strings` joined with SQLite's numbered placeholders `?1`..`?n`. Hint: not `$n`, which SQLite treats as
 * named parameters and looks up linearly, so preparing a 25,000-parameter bulk insert would take seconds.
 */
export function placeholders(strings: TemplateStringsArray): string {
  let text = strings[0] ?? "";
  for (let i = 1; i < strings.length; i++) text += `?${i}${strings[i]}`;
  return text;
}

/** PostgreSQL-style `$n` parameters in `text` as SQLite's `?n` (the store's SQL has no `$` elsewhere). */
export const numbered = (text: string) => text.replace(/\$(\d+)/g, "?$1");

/** bun:sqlite rejects `undefined`; Bun.SQL binds it as NULL. */
export const bindable = (values: unknown[]) =>
  values.map((v) => (v === undefined ? null : v)) as never[];

/** Whether a statement may write. Hint: only a SELECT is known not to; anything else is treated as a write. */
export const writes = (text: string) => !/^\s*select\b/i.test(text);
