/**
 * A group's enrollment pattern: the device names its provisioning credential may create on first use
 * (`dev-*`). `*` stands for any run of name characters (possibly none), `?` for exactly one; every
 * other character stands for itself.
 */

import { NAME_MAX_LENGTH } from "./names.ts";

/** The pattern rule in words. */
export const NAME_PATTERN_RULE =
  "lowercase letters, digits and dashes, with * for any run of characters and ? for one (e.g. dev-*), at most 63 characters";

const PATTERN_CHARS = /^[a-z0-9*?-]+$/;

/** Why `pattern` is not an enrollment pattern, or `undefined` when it is. */
export function namePatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return "is empty";
  if (pattern.length > NAME_MAX_LENGTH)
    return `is ${pattern.length} characters long; at most ${NAME_MAX_LENGTH} are allowed`;
  if (!PATTERN_CHARS.test(pattern)) {
    const bad = [...pattern].find((ch) => !/[a-z0-9*?-]/.test(ch));
    return `contains ${JSON.stringify(bad)}; a pattern is ${NAME_PATTERN_RULE}`;
  }
  return undefined;
}

/**
 * True when `name` matches `pattern` whole. Hint: a two-pointer glob match, O(pattern x name) at worst,
 * not a regular expression: an operator's pattern of many stars must not make a backtracking engine
 * spend exponential time on every provisioning request.
 */
export function matchesNamePattern(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === name[n])) {
      p++;
      n++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else return false;
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}
