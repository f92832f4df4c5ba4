/** The test setup's plan: quiet when all is there, the steps in order, and one line naming what a machine cannot have. */

import { expect, test } from "bun:test";
import { planSetup, type SetupFacts } from "./plan.ts";

const READY: SetupFacts = {
  missingPackages: [],
  missingRuntimes: [],
  release: "current",
  root: false,
  aptGet: true,
};

test("nothing to do when everything is there, root or not", () => {
  expect(planSetup(READY)).toEqual({ ok: true, steps: [] });
  expect(planSetup({ ...READY, root: true })).toEqual({ ok: true, steps: [] });
});

test("as root with apt: Debian packages, then the foreign runtimes, then the release build", () => {
  const plan = planSetup({
    ...READY,
    root: true,
    missingPackages: ["faketime", "qemu-user"],
    missingRuntimes: ["i386", "armel"],
    release: "stale",
  });
  expect(plan).toEqual({
    ok: true,
    steps: [
      { kind: "apt", packages: ["faketime", "qemu-user"] },
      { kind: "foreign-node", arches: ["i386", "armel"] },
      { kind: "build", release: "stale" },
    ],
  });
});

test("the release is built without root", () => {
  expect(planSetup({ ...READY, release: "missing" })).toEqual({
    ok: true,
    steps: [{ kind: "build", release: "missing" }],
  });
});

test("without root, one line names everything missing and the commands that get it, before any build", () => {
  const plan = planSetup({
    ...READY,
    missingPackages: ["faketime"],
    missingRuntimes: ["i386", "armhf", "armel"],
    release: "missing",
  });
  expect(plan).toEqual({
    ok: false,
    line: "test setup: missing the Debian packages faketime and Debian's Node.js for i386, armhf and armel, which only root can install: run npm test as root once, or sudo apt-get install -y faketime && sudo scripts/foreign-node.sh i386 armhf armel",
  });
});

test("without apt-get, or without dpkg-query to ask, one line says so", () => {
  expect(planSetup({ ...READY, root: true, aptGet: false, missingPackages: ["faketime"] })).toEqual(
    {
      ok: false,
      line: "test setup: missing the Debian packages faketime, and there is no apt-get to install them: run the tests on Debian 12 (or Ubuntu)",
    },
  );
  const noDpkg = planSetup({ ...READY, root: true, missingPackages: undefined });
  expect(noDpkg.ok).toBe(false);
  expect(noDpkg.ok ? "" : noDpkg.line).toStartWith(
    "test setup: dpkg-query is missing, so the Debian packages the suite needs (test/setup/apt-packages.txt) cannot be checked",
  );
});

test("every failure is a single line", () => {
  for (const facts of [
    { ...READY, missingPackages: ["a", "b", "c"] },
    { ...READY, missingRuntimes: ["i386"], aptGet: false },
    { ...READY, missingPackages: undefined },
  ]) {
    const plan = planSetup(facts);
    expect(plan.ok ? "ok" : plan.line).not.toContain("\n");
    expect(plan.ok).toBe(false);
  }
});
