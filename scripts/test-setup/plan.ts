/** What the test setup must do on this machine, decided from what is there: the steps, or the one line saying what cannot be had. */

import type { BuildState } from "../../packaging/build/inputs.ts";

/** What the machine has, as the setup found it. */
export interface SetupFacts {
  /** Packages of test/setup/apt-packages.txt that dpkg does not list as installed; undefined without dpkg-query. */
  missingPackages: string[] | undefined;
  /** Debian architectures whose Node.js scripts/foreign-node.sh has not unpacked yet. */
  missingRuntimes: string[];
  /** Whether dist/ holds a release built from the current sources. */
  release: BuildState;
  /** Running as root (apt-get and foreign-node.sh need it). */
  root: boolean;
  /** apt-get is on PATH. */
  aptGet: boolean;
}

/** One thing the setup installs or builds. */
export type SetupStep =
  | { kind: "apt"; packages: string[] }
  | { kind: "foreign-node"; arches: string[] }
  | { kind: "build"; release: "missing" | "stale" };

/** The steps to take, in order, or the one line naming what is missing and how to get it. */
export type SetupPlan = { ok: true; steps: SetupStep[] } | { ok: false; line: string };

/** "a", "a and b", "a, b and c". */
function listOf(items: string[]): string {
  if (items.length < 2) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
}

/**
 * Plans the setup. Everything that needs root is checked before anything is done, so a machine
 * that cannot have it fails at once instead of after a long build.
 */
export function planSetup(facts: SetupFacts): SetupPlan {
  const packages = facts.missingPackages;
  if (packages === undefined)
    return {
      ok: false,
      line: "test setup: dpkg-query is missing, so the Debian packages the suite needs (test/setup/apt-packages.txt) cannot be checked: run the tests on Debian 12 (or Ubuntu) with Node.js and npm",
    };
  const runtimes = facts.missingRuntimes;
  const needs = [
    ...(packages.length > 0 ? [`the Debian packages ${listOf(packages)}`] : []),
    ...(runtimes.length > 0 ? [`Debian's Node.js for ${listOf(runtimes)}`] : []),
  ];
  if (needs.length > 0 && !facts.aptGet)
    return {
      ok: false,
      line: `test setup: missing ${listOf(needs)}, and there is no apt-get to install them: run the tests on Debian 12 (or Ubuntu)`,
    };
  if (needs.length > 0 && !facts.root) {
    const commands = [
      ...(packages.length > 0 ? [`sudo apt-get install -y ${packages.join(" ")}`] : []),
      ...(runtimes.length > 0 ? [`sudo scripts/foreign-node.sh ${runtimes.join(" ")}`] : []),
    ];
    return {
      ok: false,
      line: `test setup: missing ${listOf(needs)}, which only root can install: run npm test as root once, or ${commands.join(" && ")}`,
    };
  }
  const steps: SetupStep[] = [];
  if (packages.length > 0) steps.push({ kind: "apt", packages });
  if (runtimes.length > 0) steps.push({ kind: "foreign-node", arches: runtimes });
  if (facts.release !== "current") steps.push({ kind: "build", release: facts.release });
  return { ok: true, steps };
}
