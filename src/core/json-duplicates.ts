/**
 * Duplicate keys in a JSON text. `JSON.parse` keeps the last of two equal keys, other parsers the first,
 * so `{"device":"a","device":"b"}` means different things to different readers: IoTA refuses it.
 */

/** Whether `c` (a char code) ends a number, `true`, `false` or `null` in valid JSON. */
const endsLiteral = (c: number) =>
  c === 0x2c || c === 0x5d || c === 0x7d || c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

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
 * Hint: it runs on every request body, so it reads char codes and unescapes only keys that hold a backslash.
 */
export function firstDuplicateKey(text: string): string | undefined {
  const stack: Frame[] = [];
  const at = (frame: Frame | undefined, key: string) =>
    frame === undefined || frame.path === "" ? key : `${frame.path}.${key}`;
  let pendingKey: string | undefined;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    // Hint: whitespace, ":" and "," carry nothing the scan needs.
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x3a || c === 0x2c) continue;
    const top = stack[stack.length - 1];
    if (c === 0x7d || c === 0x5d) {
      stack.pop();
      continue;
    }
    if (c === 0x22) {
      const start = i;
      let escaped = false;
      for (i++; text.charCodeAt(i) !== 0x22; i++)
        if (text.charCodeAt(i) === 0x5c) {
          i++;
          escaped = true;
        }
      // Hint: inside an object a string is a key when no key is waiting for its value.
      if (top?.keys && pendingKey === undefined) {
        const key = escaped
          ? (JSON.parse(text.slice(start, i + 1)) as string)
          : text.slice(start + 1, i);
        if (top.keys.has(key)) return at(top, key);
        top.keys.add(key);
        pendingKey = key;
        continue;
      }
    } else if (c === 0x7b || c === 0x5b) {
      const path = top?.keys ? at(top, pendingKey ?? "") : top ? at(top, String(top.index++)) : "";
      stack.push({ keys: c === 0x7b ? new Set() : undefined, path, index: 0 });
      pendingKey = undefined;
      continue;
    } else {
      // A number, true, false or null: skip to its end.
      while (i + 1 < length && !endsLiteral(text.charCodeAt(i + 1))) i++;
    }
    if (top && !top.keys) top.index++;
    pendingKey = undefined;
  }
  return undefined;
}
