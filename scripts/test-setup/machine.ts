/** What this machine has of what the test suite needs: Debian packages, Debian's foreign Node.js runtimes, a current release. */

import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TARGETS } from "../../targets/index.ts";
import { buildState } from "../../packaging/build/inputs.ts";
import { foreignNodeDir } from "../../test/helpers/foreign-run.ts";
import type { SetupFacts } from "./plan.ts";

/** The Debian packages the suite needs: test/setup/apt-packages.txt without comments and blank lines. */
export function listedPackages(repo: string): string[] {
  return readFileSync(join(repo, "test/setup/apt-packages.txt"), "utf8")
    .split("\n")
    .map((line) => line.replace(/#.*/, "").trim())
    .filter((line) => line !== "");
}

/** The packages dpkg does not have installed, in the order given; undefined when there is no dpkg-query. */
export function missingPackages(packages: string[]): string[] | undefined {
  if (Bun.which("dpkg-query") === null) return undefined;
  // Hint: exits 1 when a package is unknown to dpkg (never installed); its stdout still lists the others.
  // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own field syntax, not a template.
  const format = "-f=${Package} ${db:Status-Status}\n";
  const query = spawnSync("dpkg-query", ["-W", format, ...packages], { encoding: "utf8" });
  const installed = new Set(
    query.stdout
      .split("\n")
      .filter((line) => line.endsWith(" installed"))
      .map((line) => line.split(" ")[0]),
  );
  return packages.filter((p) => !installed.has(p));
}

/** The Debian architectures of the targets run on Debian's own Node.js (scripts/foreign-node.sh unpacks them). */
export function foreignArches(): string[] {
  const arches = TARGETS.flatMap((t) =>
    t.runner.kind === "foreign-node" ? [t.runner.debArch] : [],
  );
  return [...new Set(arches)];
}

/** The facts the setup plans from. */
export function machineFacts(repo: string): SetupFacts {
  return {
    missingPackages: missingPackages(listedPackages(repo)),
    missingRuntimes: foreignArches().filter(
      (a) => !existsSync(join(foreignNodeDir(repo, a), ".complete")),
    ),
    release: buildState(
      repo,
      join(repo, "dist"),
      TARGETS.map((t) => t.name),
    ),
    root: process.getuid?.() === 0,
    aptGet: Bun.which("apt-get") !== null,
  };
}
