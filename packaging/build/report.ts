/** What a build produced: one row per artifact, printed as a table and saved as dist/artifacts.json. */

import { statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

/** One file in dist/. */
export interface Artifact {
  /** File name inside dist/. */
  file: string;
  /** Target name (targets/*.ts), or `any` for a file every target shares. */
  target: string;
  /** What it is. */
  kind: "executable" | "node-bundle" | "tarball" | "deb" | "unit";
  /** The program it carries. */
  program: string;
  bytes: number;
}

/** Describes the file at `path` as an artifact. */
export function artifactOf(
  path: string,
  target: string,
  kind: Artifact["kind"],
  program: string,
): Artifact {
  return { file: basename(path), target, kind, program, bytes: statSync(path).size };
}

/** Human size: `98.4 MB`, `812 kB`. */
export function formatSize(bytes: number): string {
  if (bytes >= 1e6) return `${(bytes / 1e6).toFixed(1)} MB`;
  return `${Math.round(bytes / 1e3)} kB`;
}

/** The table printed at the end of `npm run build`. */
export function formatTable(artifacts: Artifact[]): string {
  const rows = [
    ["artifact", "target", "kind", "size"],
    ...artifacts.map((a) => [a.file, a.target, a.kind, formatSize(a.bytes)]),
  ];
  const widths = [0, 1, 2, 3].map((i) => Math.max(...rows.map((r) => (r[i] ?? "").length)));
  const line = (r: string[]) =>
    r
      .map((cell, i) => (i === 3 ? cell.padStart(widths[i] ?? 0) : cell.padEnd(widths[i] ?? 0)))
      .join("  ");
  const total = artifacts.reduce((sum, a) => sum + a.bytes, 0);
  return [
    line(rows[0] ?? []),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.slice(1).map(line),
    `${artifacts.length} artifacts, ${formatSize(total)} in all`,
  ].join("\n");
}

/** Saves the artifact list beside them, for scripts and the dist test. */
export function writeManifest(dist: string, version: string, artifacts: Artifact[]): void {
  writeFileSync(
    join(dist, "artifacts.json"),
    `${JSON.stringify({ version, artifacts }, null, 2)}\n`,
  );
}
