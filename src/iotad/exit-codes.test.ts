import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { AttemptResult } from "./agent-state.ts";
import { USAGE } from "./cli.ts";
import { EXIT, EXIT_STATUSES, exitCodeFor } from "./exit-codes.ts";

const README = readFileSync(join(import.meta.dir, "../../docs/iotad.md"), "utf8");

/** The rows of docs/iotad.md's exit-status table: [status, meaning without code marks]. */
function readmeExitStatuses(): [number, string][] {
  const section = README.slice(README.indexOf("### Commands and exit status"));
  const table = section.slice(section.indexOf("| status | meaning |"));
  const rows = table.split("\n").slice(2);
  const end = rows.findIndex((row) => !row.startsWith("|"));
  return rows.slice(0, end).map((row) => {
    const [, code, meaning] = /^\| `(\d+)` \| (.*) \|$/.exec(row) ?? [];
    if (code === undefined || meaning === undefined) throw new Error(`README row: ${row}`);
    return [Number(code), meaning.replaceAll("`", "")];
  });
}

describe("iotad exit statuses", () => {
  test("EXIT is the table's numbers, each used once", () => {
    const codes = Object.values(EXIT);
    expect(new Set(codes).size).toBe(codes.length);
    for (const [name, { code }] of Object.entries(EXIT_STATUSES))
      expect(EXIT[name as keyof typeof EXIT]).toBe(code);
    expect(EXIT).toMatchObject({ ok: 0, usage: 2, refused: 3, unreachable: 4, noCertificate: 6 });
  });

  test("`iotad --help` lists every status of the table, in order, with its meaning", () => {
    const lines = USAGE.slice(USAGE.indexOf("Exit status:\n")).split("\n").slice(1);
    const listed = lines.slice(0, lines.indexOf(""));
    expect(listed).toEqual(
      Object.values(EXIT_STATUSES).map(({ code, meaning }) => `  ${code}  ${meaning}`),
    );
  });

  test("docs/iotad.md lists the same statuses with the same meanings", () => {
    expect(readmeExitStatuses()).toEqual(
      Object.values(EXIT_STATUSES).map(({ code, meaning }) => [code, meaning]),
    );
  });

  test("a one-shot outcome maps to its status", () => {
    const cases: [Extract<AttemptResult, { ok: false }>["failure"], number][] = [
      [{ kind: "refused", status: 409, message: "conflict" }, EXIT.refused],
      [{ kind: "busy", status: 503, message: "busy" }, EXIT.unreachable],
      [{ kind: "unreachable", message: "ECONNREFUSED" }, EXIT.unreachable],
      [{ kind: "local", message: "ENOSPC" }, EXIT.local],
      [{ kind: "unprovisioned", message: "nothing held" }, EXIT.noCertificate],
    ];
    for (const [failure, status] of cases) expect(exitCodeFor({ ok: false, failure })).toBe(status);
  });
});
