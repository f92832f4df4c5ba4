/** Group and device names: lowercase ASCII letters and digits, words joined by single dashes. */

/** The naming rule in words, quoted by every error about a name. */
export const NAME_RULE =
  "lowercase ASCII letters and digits, words separated by single dashes, 1-63 characters (e.g. room2-lights)";

/** Longest allowed name. */
export const NAME_MAX_LENGTH = 63;

const NAME_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/**
 * Why `name` is not a valid group or device name, or `undefined` when it is.
 * The reason is specific (too long, uppercase, double dash...) so a factory engineer can fix a list quickly.
 */
export function nameProblem(name: string): string | undefined {
  if (name.length === 0) return "is empty";
  if (name.length > NAME_MAX_LENGTH)
    return `is ${name.length} characters long; at most ${NAME_MAX_LENGTH} are allowed`;
  if (NAME_PATTERN.test(name)) return undefined;
  if (/[A-Z]/.test(name)) return "contains uppercase letters; only lowercase are allowed";
  if (name.startsWith("-") || name.endsWith("-")) return "starts or ends with a dash";
  if (name.includes("--")) return "contains two dashes in a row";
  const bad = [...name].find((ch) => !/[a-z0-9-]/.test(ch)) ?? "";
  return `contains ${describeCharacter(bad)}; only a-z, 0-9 and single dashes are allowed`;
}

/**
 * A character as a person can read it in a message: printable ASCII quoted, anything else (a byte-order mark
 * from a spreadsheet's export, a non-breaking space, a control character) by its code point.
 */
export function describeCharacter(ch: string): string {
  if (/^[\x21-\x7e]$/.test(ch)) return JSON.stringify(ch);
  if (ch === " ") return "a space";
  const code = `U+${(ch.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;
  if (ch === "\ufeff") return `a byte-order mark (${code})`;
  return /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(ch) ? `${JSON.stringify(ch)} (${code})` : code;
}

/** `text` quoted for a message, with invisible characters written as \u escapes so they can be seen. */
export function visibleText(text: string): string {
  return JSON.stringify(text).replace(/[\p{Cc}\p{Cf}\p{Z}]/gu, (ch) =>
    ch === " " ? ch : `\\u${(ch.codePointAt(0) ?? 0).toString(16).padStart(4, "0")}`,
  );
}

/** True when `name` follows {@link NAME_RULE}. */
export function isValidName(name: string): boolean {
  return name.length <= NAME_MAX_LENGTH && NAME_PATTERN.test(name);
}
