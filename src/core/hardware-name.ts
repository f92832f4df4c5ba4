/**
 * Device names made from hardware values (a machine-id, a MAC address, a DMI serial): the one
 * normalisation iotad applies at every boot and iotactl applies to a factory's list of values, so both
 * arrive at the same name.
 */

import { NAME_MAX_LENGTH, nameProblem } from "./names.ts";

/** Longest name prefix: a machine-id (32 hex digits) then always fits whole after it. */
export const PREFIX_MAX_LENGTH = NAME_MAX_LENGTH - 32;

/** The rule for prefixes in words. */
export const PREFIX_RULE = `lowercase letters and digits in words separated by single dashes, optionally ending with a dash, at most ${PREFIX_MAX_LENGTH} characters (e.g. dev-)`;

const PREFIX_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*-?$/;

/**
 * Values that identify no board: vendors' placeholders for a serial nobody filled in, and what systemd
 * writes before a machine-id exists. Compared after normalisation. Hint: a golden image on boards that all
 * report "Default string" would name every board alike; the first would take the name, the rest get 409.
 */
const PLACEHOLDERS = new Set([
  "to-be-filled-by-o-e-m",
  "to-be-filled-by-oem",
  "default-string",
  "default",
  "system-serial-number",
  "system-product-name",
  "chassis-serial-number",
  "base-board-serial-number",
  "serial-number",
  "not-specified",
  "not-applicable",
  "not-available",
  "not-settable",
  "none",
  "n-a",
  "na",
  "null",
  "oem",
  "unknown",
  "invalid",
  "uninitialized",
  "0123456789",
  "123456789",
  "1234567890",
  "03000200-0400-0500-0006-000700080009",
]);

/** Why `prefix` cannot start device names, or `undefined` when it can (the empty prefix can). */
export function prefixProblem(prefix: string): string | undefined {
  if (prefix === "") return undefined;
  if (prefix.length > PREFIX_MAX_LENGTH)
    return `is ${prefix.length} characters long; at most ${PREFIX_MAX_LENGTH} are allowed`;
  if (!PREFIX_PATTERN.test(prefix)) return `must be ${PREFIX_RULE}`;
  return undefined;
}

/** A device name made from a hardware value, or why the value cannot be one. */
export type HardwareName =
  | {
      ok: true;
      name: string /** The value was longer than the room left by the prefix. */;
      truncated: boolean;
    }
  | { ok: false; problem: string };

/** The first line of a file's text, trimmed: what a source's value is. */
export function firstLine(text: string): string {
  return (text.split(/\r?\n/, 1)[0] ?? "").trim();
}

/**
 * `prefix` + the value made into a name: lowercased; every run of characters other than a-z and 0-9
 * becomes one dash; dashes at both ends are dropped. When prefix and value exceed 63 characters, the
 * value's **end** is kept: serial numbers share their beginning (vendor, model, year) and differ in their
 * trailing sequence number, so the end is the part that tells boards apart. The same value always gives
 * the same name. A value with no letter or digit, a vendor's placeholder, or one character repeated
 * (`00:00:00:00:00:00`, an all-zero UUID) is refused: it would name many boards alike.
 */
export function hardwareName(value: string, prefix: string): HardwareName {
  const problem = prefixProblem(prefix);
  if (problem !== undefined) return { ok: false, problem: `the prefix ${problem}` };
  const trimmed = firstLine(value);
  let normal = trimmed
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  if (normal === "")
    return {
      ok: false,
      problem: trimmed === "" ? "is empty" : `${JSON.stringify(trimmed)} has no letters or digits`,
    };
  if (PLACEHOLDERS.has(normal))
    return {
      ok: false,
      problem: `${JSON.stringify(trimmed)} is a vendor's placeholder, not a value of this board alone (every board of a batch may report it)`,
    };
  if (new Set(normal.replace(/-/g, "")).size === 1)
    return {
      ok: false,
      problem: `${JSON.stringify(trimmed)} is one character repeated, a placeholder that many boards may report`,
    };
  const room = NAME_MAX_LENGTH - prefix.length;
  const truncated = normal.length > room;
  if (truncated) normal = normal.slice(-room).replace(/^-+/, "");
  const name = `${prefix}${normal}`;
  const invalid = nameProblem(name);
  if (invalid !== undefined)
    return { ok: false, problem: `makes ${JSON.stringify(name)}, which ${invalid}` };
  return { ok: true, name, truncated };
}
