/**
 * Where a JSON text stops being JSON, as a line and column for a person editing the file. Hint: JSON.parse
 * says what it expected but not where (Bun gives no position, Node a character offset), and a config file
 * is edited by hand, so the place is found by a small scanner of the JSON grammar (RFC 8259).
 */

/** Line and column (both from 1) of the first character that cannot continue JSON `text`; undefined when it is JSON. */
export function jsonErrorPlace(text: string): { line: number; column: number } | undefined {
  const at = firstBadOffset(text);
  if (at === undefined) return undefined;
  const before = text.slice(0, at);
  const line = before.split("\n").length;
  return { line, column: at - (before.lastIndexOf("\n") + 1) + 1 };
}

/** Offset of the first character that breaks the grammar (text.length when the text ends too early). */
function firstBadOffset(text: string): number | undefined {
  let i = 0;
  const fail = (at = i): never => {
    throw at;
  };
  const skipSpace = () => {
    while (i < text.length && " \t\r\n".includes(text.charAt(i))) i++;
  };
  const scanLiteral = (word: string) => {
    for (const ch of word) {
      if (text.charAt(i) !== ch) fail();
      i++;
    }
  };
  const scanString = () => {
    i++;
    for (;;) {
      if (i >= text.length) fail();
      const ch = text.charAt(i);
      if (ch === '"') {
        i++;
        return;
      }
      if (ch < " ") fail();
      if (ch !== "\\") {
        i++;
        continue;
      }
      i++;
      const escaped = text.charAt(i);
      if (escaped === "u") {
        for (let k = 1; k <= 4; k++) if (!/[0-9a-fA-F]/.test(text.charAt(i + k))) fail(i + k);
        i += 5;
      } else if (escaped !== "" && '"\\/bfnrt'.includes(escaped)) i++;
      else fail();
    }
  };
  const scanNumber = () => {
    const match = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i));
    if (!match || match[0] === "-") fail();
    i += match?.[0].length ?? 0;
  };
  const scanMembers = (close: string, member: () => void) => {
    i++;
    skipSpace();
    if (text.charAt(i) === close) {
      i++;
      return;
    }
    for (;;) {
      member();
      skipSpace();
      if (text.charAt(i) === close) {
        i++;
        return;
      }
      if (text.charAt(i) !== ",") fail();
      i++;
    }
  };
  const scanValue = (): void => {
    skipSpace();
    const ch = text.charAt(i);
    if (ch === "{")
      scanMembers("}", () => {
        skipSpace();
        if (text.charAt(i) !== '"') fail();
        scanString();
        skipSpace();
        if (text.charAt(i) !== ":") fail();
        i++;
        scanValue();
      });
    else if (ch === "[") scanMembers("]", scanValue);
    else if (ch === '"') scanString();
    else if (ch === "t") scanLiteral("true");
    else if (ch === "f") scanLiteral("false");
    else if (ch === "n") scanLiteral("null");
    else if (ch === "-" || (ch >= "0" && ch <= "9")) scanNumber();
    else fail();
  };
  try {
    scanValue();
    skipSpace();
    if (i < text.length) fail();
    return undefined;
  } catch (offset) {
    if (typeof offset !== "number") throw offset;
    return offset;
  }
}
