/** The digest of everything a release build reads, stamped into its output so a current dist/ need not be built again. */

import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

/** What a release build reads, relative to the repository (besides the Bun that builds and node_modules, pinned by the lockfile). */
export const BUILD_INPUTS: readonly string[] = [
  "build.ts",
  "bunfig.toml",
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "packaging",
  "src",
  "targets",
];

/** The file in the output folder that holds the digest of the inputs it was built from. */
export const STAMP_FILE = ".inputs-sha256";

/** Whether an output folder holds a build of the current inputs. */
export type BuildState = "current" | "missing" | "stale";

/** Every input file under `path` (relative to `repo`), sorted; tests and node_modules are not inputs. */
function inputFiles(repo: string, path: string): string[] {
  const full = join(repo, path);
  if (!existsSync(full)) return [];
  if (!statSync(full).isDirectory()) return [path];
  return readdirSync(full, { withFileTypes: true })
    .filter((entry) => entry.name !== "node_modules" && !entry.name.endsWith(".test.ts"))
    .filter((entry) => entry.isDirectory() || entry.isFile())
    .map((entry) => `${path}/${entry.name}`)
    .sort()
    .flatMap((child) => inputFiles(repo, child));
}

/**
 * The SHA-256 over the build inputs' paths and contents, the building Bun's version and platform,
 * and the names of the targets built: a build of some targets never passes for a build of all.
 */
export function inputsDigest(repo: string, targets: readonly string[]): string {
  const hash = createHash("sha256");
  hash.update(`bun ${Bun.version} ${process.platform}-${process.arch}\n`);
  hash.update(`targets ${targets.join(",")}\n`);
  for (const file of BUILD_INPUTS.flatMap((input) => inputFiles(repo, input))) {
    const content = createHash("sha256")
      .update(readFileSync(join(repo, file)))
      .digest("hex");
    hash.update(`${file}\0${content}\n`);
  }
  return hash.digest("hex");
}

/** Whether `out` holds a build of `targets` from the current inputs of `repo`. */
export function buildState(repo: string, out: string, targets: readonly string[]): BuildState {
  const stamp = join(out, STAMP_FILE);
  if (!existsSync(stamp)) return "missing";
  return readFileSync(stamp, "utf8").trim() === inputsDigest(repo, targets) ? "current" : "stale";
}
