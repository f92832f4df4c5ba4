/**
 * Duplicate keys in a JSON text. `JSON.parse` keeps the last of two equal keys, other parsers the first,
 * so `{"device":"a","device":"b"}` means different things to different readers: IoTA refuses it.
 */

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);

/** One open object or array while scanning. */
interface Frame {
  /** Keys seen so far (objects), or undefined (arrays). */
  keys: Set<string> | undefined;
  path: string;
  /** Next array index. */
  index: number;
}

/**
 * The dotted path of the first key that appears twice in one object (`device`, `names.3.x`), or undefined.
 * `text` must already be valid JSON (this walks it, it does not validate it); deep nesting is fine.
 */
export function firstDuplicateKey(text: string): string | undefined {
  const stack: Frame[] = [];
  const at = (frame: Frame | undefined, key: string) =>
    frame === undefined || frame.path === "" ? key : `${frame.path}.${key}`;
  let pendingKey: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (WHITESPACE.has(c) || c === ":" || c === ",") continue;
    const top = stack[stack.length - 1];
    if (c === "}" || c === "]") {
      stack.pop();
      continue;
    }
    if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === "\\") i++;
      const value = JSON.parse(text.slice(start, i + 1)) as string;
      // Hint: inside an object a string is a key when no key is waiting for its value.
      if (top?.keys && pendingKey === undefined) {
        if (top.keys.has(value)) return at(top, value);
        top.keys.add(value);
        pendingKey = value;
        continue;
      }
    } else if (c === "{" || c === "[") {
      const path = top?.keys ? at(top, pendingKey ?? "") : top ? at(top, String(top.index++)) : "";
      stack.push({ keys: c === "{" ? new Set() : undefined, path, index: 0 });
      pendingKey = undefined;
      continue;
    } else {
      // A number, true, false or null: skip to its end.
      while (i + 1 < text.length && !/[\s,\]}]/.test(text[i + 1] as string)) i++;
    }
    if (top && !top.keys) top.index++;
    pendingKey = undefined;
  }
  return undefined;
}
