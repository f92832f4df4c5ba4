/** Device names for bulk commands: from a file or stdin (one per line), or numbered from a prefix. */

import { resolve } from "node:path";
import { nameProblem, visibleText } from "../core/names.ts";
import { usageError } from "./exit-codes.ts";
import { fileProblem, type Io } from "./io.ts";

/** Most names one command accepts (numbered or from a file); far beyond a factory batch, it only guards memory. */
export const MAX_NAMES = 10_000_000;

/**
 * The names in a list: one per line, final newline optional, blank lines ignored.
 * Hint: a trailing `\r` is dropped so lists saved on Windows work; other spaces stay and are reported as invalid.
 */
export function parseNameList(text: string): string[] {
  const names: string[] = [];
  // Hint: a byte-order mark starts many lists exported from spreadsheets; it is not part of the first name.
  const body = text.startsWith("\ufeff") ? text.slice(1) : text;
  for (const raw of body.split("\n")) {
    const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
    if (line.trim() !== "") names.push(line);
  }
  return names;
}

/** Reads a name list from `path`, or from stdin when `path` is `-`. Usage error (exit 2) when unreadable. */
export async function readNameList(io: Io, path: string, flag = "--from-file"): Promise<string[]> {
  let text: string;
  if (path === "-") text = await io.readStdin();
  else {
    try {
      text = io.files.readText(resolve(io.cwd, path));
    } catch (error) {
      throw usageError(`${flag} ${path}: ${fileProblem(error)}`);
    }
  }
  const names = parseNameList(text);
  if (names.length > MAX_NAMES)
    throw usageError(
      `${flag} ${path} holds ${names.length} names; at most ${MAX_NAMES} per command`,
    );
  return names;
}

/** `prefix + start`, ..., `prefix + (start + count - 1)`; the prefix is checked so every name is valid. */
export function numberedNames(prefix: string, start: number, count: number): string[] {
  const problem = nameProblem(`${prefix}${start + count - 1}`) ?? nameProblem(`${prefix}${start}`);
  if (problem)
    throw usageError(
      `--prefix ${JSON.stringify(prefix)} makes names like "${prefix}${start}" that ${problem}`,
    );
  return Array.from({ length: count }, (_, i) => `${prefix}${start + i}`);
}

/** The names without repeats (first occurrence kept), how many repeats were dropped, and which names repeated. */
export function dedupe(names: string[]): {
  names: string[];
  duplicates: number;
  repeated: string[];
} {
  const unique = new Set<string>();
  const repeated = new Set<string>();
  for (const name of names) {
    if (unique.has(name)) repeated.add(name);
    else unique.add(name);
  }
  return { names: [...unique], duplicates: names.length - unique.size, repeated: [...repeated] };
}

/** The warning for repeated names, naming the first few so the list can be fixed. */
export function repeatedWarning(duplicates: number, repeated: string[]): string {
  const shown = repeated.slice(0, 5).map(visibleText).join(", ");
  const more = repeated.length > 5 ? ` and ${repeated.length - 5} more` : "";
  return `${duplicates} repeated ${duplicates === 1 ? "name" : "names"} ignored (each is used once): ${shown}${more}`;
}
