/** Results on stdout: JSON for machines, aligned fields and tables for people. */

import { formatDuration } from "../core/duration.ts";
import type { DeviceView, GroupView } from "../core/wire.ts";
import type { Io } from "./io.ts";

/** `n` and `word`, with an `s` unless `n` is 1: `1 device`, `3 devices`. */
export function counted(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** Prints `value` as indented JSON. */
export function printJson(io: Io, value: unknown): void {
  io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints `label: value` lines, labels aligned; null values as `-`. */
export function printFields(io: Io, fields: [string, string | number | null | undefined][]): void {
  const width = Math.max(...fields.map(([label]) => label.length)) + 2;
  io.stdout.write(
    fields.map(([label, value]) => `${`${label}:`.padEnd(width)}${value ?? "-"}\n`).join(""),
  );
}

/** The fields of a group for `get group`. */
export function groupFields(g: GroupView): [string, string | number | null | undefined][] {
  return [
    ["name", g.name],
    ["devices", g.deviceCount],
    ["validity", formatDuration(g.validity)],
    ["renew grace", formatDuration(g.renewGrace)],
    ["created", g.createdAt],
    ["secret rotated", g.secretRotatedAt],
    ["enrollment", enrollmentText(g)],
  ];
}

/** `registered`, or `any: dev-* (at most 1000 per hour)`. */
export function enrollmentText(g: GroupView): string {
  if (g.enrollment !== "any") return "registered (provisions only devices created in advance)";
  return `any: creates devices named ${g.namePattern ?? "?"} on first provisioning, at most ${g.enrollPerHour ?? "?"} per hour`;
}

/** The fields of a device for `get device`. */
export function deviceFields(d: DeviceView): [string, string | number | null | undefined][] {
  return [
    ["group", d.group],
    ["name", d.name],
    ["state", d.state],
    ["serial", d.serial],
    ["not before", d.notBefore],
    ["not after", d.notAfter],
    ["provisioned", d.provisionedAt],
    ["last renewal", d.lastRenewal],
    ["created", d.createdAt],
    ["enrolled", d.enrolledAt],
  ];
}

/** A table row with fixed column widths (names are at most 63 characters, so rows align while streaming). */
export function row(cells: string[], widths: number[]): string {
  return `${cells.map((cell, i) => (i < cells.length - 1 ? cell.padEnd(widths[i] ?? 0) : cell)).join("  ")}\n`;
}
