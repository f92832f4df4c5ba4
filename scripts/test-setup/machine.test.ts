/** What the test setup reads from the machine: the package list, dpkg's answer, the foreign architectures. */

import { expect, test } from "bun:test";
import { join } from "node:path";
import { TARGETS } from "../../targets/index.ts";
import { foreignArches, listedPackages, missingPackages } from "./machine.ts";

const repo = join(import.meta.dir, "../..");

test("the package list is read without its comments and blank lines", () => {
  const packages = listedPackages(repo);
  expect(packages).toContain("faketime");
  expect(packages).toContain("qemu-user");
  expect(packages.every((p) => /^[a-z0-9][a-z0-9.+-]+$/.test(p))).toBe(true);
});

test("dpkg-query tells installed packages from ones never installed, in the order asked", () => {
  // Hint: dpkg itself is always installed on Debian; the made-up names never are.
  expect(missingPackages(["iota-no-such-package", "dpkg", "iota-none-either"])).toEqual([
    "iota-no-such-package",
    "iota-none-either",
  ]);
  expect(missingPackages(["dpkg", "coreutils"])).toEqual([]);
});

test("the foreign architectures are those of the targets run on Debian's Node.js", () => {
  expect(foreignArches()).toEqual(["i386", "armhf", "armel"]);
  expect(foreignArches().length).toBe(
    TARGETS.filter((t) => t.runner.kind === "foreign-node").length,
  );
});
