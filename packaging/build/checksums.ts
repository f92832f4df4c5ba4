/** SHA256SUMS over every artifact of dist/, in the format `sha256sum -c` reads. */

import { createHash } from "node:crypto";
import { createReadStream, writeFileSync } from "node:fs";
import { basename, join } from "node:path";

/** SHA-256 of a file, hex, streamed (the executables are ~100 MB). */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Writes `dist/SHA256SUMS` for `files` (paths inside `dist`), sorted by name; returns its path. */
export async function writeChecksums(dist: string, files: string[]): Promise<string> {
  const names = files.map((f) => basename(f)).sort();
  const lines: string[] = [];
  for (const name of names) lines.push(`${await sha256File(join(dist, name))}  ${name}`);
  const path = join(dist, "SHA256SUMS");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}
