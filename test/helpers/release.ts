/** Test support: the release in dist/ (from `npm run build`, which npm test runs when the sources changed) and its artifact list. */

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { buildState } from "../../packaging/build/inputs.ts";
import { TARGETS } from "../../targets/index.ts";

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

/**
 * The release in `repo`/dist; throws at once, saying what to run, when dist/ holds no finished build of
 * every target or was built from other sources (a test never runs old artifacts, nor builds them itself).
 */
export function currentRelease(repo: string): Release {
  const dist = join(repo, "dist");
  const state = buildState(
    repo,
    dist,
    TARGETS.map((t) => t.name),
  );
  if (state !== "current")
    throw new Error(
      `dist/ ${state === "missing" ? "holds no finished build" : "was built from other sources"}: run npm run build (npm test builds it when needed)`,
    );
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
