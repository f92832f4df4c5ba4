/** Test support: the release in dist/ (from `npm run build`, built here once when absent) and its artifact list. */

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";

/** One row of dist/artifacts.json. */
export interface ReleaseArtifact {
  file: string;
  target: string;
  kind: string;
  program: string;
}

/** dist/artifacts.json. */
export interface Release {
  dist: string;
  version: string;
  artifacts: ReleaseArtifact[];
  /** The path of iotad's artifact of `kind` for `target`; throws when the release lacks it. */
  path(target: string, kind: string): string;
}

/** Reads the release in `repo`/dist, running `bun build.ts` first when there is none (~3 min). */
export function ensureRelease(repo: string): Release {
  const dist = join(repo, "dist");
  if (!existsSync(join(dist, "artifacts.json"))) {
    const built = spawnSync(join(repo, "node_modules/.bin/bun"), ["build.ts"], {
      cwd: repo,
      encoding: "utf8",
    });
    if (built.status !== 0) throw new Error(`npm run build failed:\n${built.stderr}`);
  }
  const manifest = JSON.parse(readFileSync(join(dist, "artifacts.json"), "utf8")) as {
    version: string;
    artifacts: ReleaseArtifact[];
  };
  return {
    dist,
    ...manifest,
    path(target, kind) {
      const found = manifest.artifacts.find(
        (a) => a.target === target && a.kind === kind && a.program === "iotad",
      );
      if (!found)
        throw new Error(`dist/ has no ${kind} of iotad for ${target}: rebuild with npm run build`);
      return join(dist, found.file);
    },
  };
}
