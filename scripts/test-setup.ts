#!/usr/bin/env bun
/**
 * `npm test`'s first step: gives the suite what it needs on this machine (the Debian packages of
 * test/setup/apt-packages.txt, Debian's Node.js for the 32-bit targets, a release in dist/ built
 * from the current sources). Quiet when all is there; one line per thing it installs; one line
 * naming what is missing and how to get it when it cannot (exit 1).
 */

import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { machineFacts } from "./test-setup/machine.ts";
import { planSetup, type SetupStep } from "./test-setup/plan.ts";

const repo = resolve(import.meta.dir, "..");
const APT_UPDATE_ATTEMPTS = 4;
let aptUpdated = false;

/** A step that failed: its one line is all the run prints. */
class SetupFailure extends Error {}

/** Runs a command to completion; throws a SetupFailure (`what` failed, its last line, a log file) when it fails. */
function run(what: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const result = spawnSync(command, args, {
    cwd: repo,
    env,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.status === 0) return;
  const output = `${result.error?.message ?? ""}${result.stdout ?? ""}${result.stderr ?? ""}`;
  const log = join(mkdtempSync(join(tmpdir(), "iota-test-setup-")), "output.log");
  writeFileSync(log, output);
  // Hint: apt's first error names the index or package (and "Mirror sync in progress?"); others end with theirs.
  const lines = output.trim().split("\n");
  const reason = (lines.find((line) => line.startsWith("E: ")) ?? lines.at(-1) ?? "").slice(0, 300);
  throw new SetupFailure(`test setup: ${what} failed: ${reason} (full output in ${log})`);
}

/** apt-get update, retried: a mirror can be mid-sync for one architecture's index for a moment. Returns the last failure, if all failed. */
function aptUpdate(env: NodeJS.ProcessEnv): string | undefined {
  for (let attempt = 1; ; attempt++) {
    try {
      run("apt-get update", "apt-get", ["update", "-q"], env);
      aptUpdated = true;
      return undefined;
    } catch (error) {
      if (!(error instanceof SetupFailure)) throw error;
      // Hint: the install is still tried on the indexes apt has; it names this failure if they do not do.
      if (attempt === APT_UPDATE_ATTEMPTS) return error.message;
      process.stderr.write(`${error.message}; retrying (${attempt}/${APT_UPDATE_ATTEMPTS})\n`);
      Bun.sleepSync(attempt * 5000);
    }
  }
}

/** Takes one step of the plan, printing the one line that says what it installs. */
function take(step: SetupStep): void {
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  if (step.kind === "apt") {
    for (const p of step.packages) console.log(`test setup: installing the Debian package ${p}`);
    const updateFailure = aptUpdate(env);
    try {
      run(
        "apt-get install",
        "apt-get",
        ["install", "-y", "-q", "--no-install-recommends", ...step.packages],
        env,
      );
    } catch (error) {
      if (!(error instanceof SetupFailure) || updateFailure === undefined) throw error;
      throw new SetupFailure(
        `${error.message}, after ${updateFailure.replace("test setup: ", "")}`,
      );
    }
  } else if (step.kind === "foreign-node") {
    for (const arch of step.arches)
      console.log(`test setup: unpacking Debian's Node.js for ${arch} (scripts/foreign-node.sh)`);
    // Its own apt-get update runs only when it adds an architecture; older indexes may name .debs the mirror dropped.
    const update = aptUpdated ? {} : { FOREIGN_NODE_UPDATE: "1" };
    run("scripts/foreign-node.sh", join(repo, "scripts/foreign-node.sh"), step.arches, {
      ...env,
      ...update,
    });
  } else {
    const why =
      step.release === "missing"
        ? "dist/ holds no finished build"
        : "the sources changed since the last build";
    console.log(
      `test setup: building the release into dist/ (bun build.ts --fast-compression), ~1.5 min (${why})`,
    );
    // Hint: the tests check what the artifacts do and that they are xz; xz -1 takes a fifth of -6's CPU.
    run("bun build.ts --fast-compression", process.execPath, ["build.ts", "--fast-compression"]);
  }
}

const plan = planSetup(machineFacts(repo));
try {
  if (!plan.ok) throw new SetupFailure(plan.line);
  for (const step of plan.steps) take(step);
} catch (error) {
  if (!(error instanceof SetupFailure)) throw error;
  console.error(error.message);
  process.exit(1);
}
