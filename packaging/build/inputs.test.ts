/** The build-inputs digest: a source edit makes dist/ stale, a test edit or another folder does not, a partial build never passes. */

import { afterAll, expect, test } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildState, inputsDigest, STAMP_FILE } from "./inputs.ts";

const tmp = mkdtempSync(join(tmpdir(), "iota-build-inputs-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A small repository with the shape the build reads, and a dist/ stamped from it. */
function repoWithBuild(name: string): string {
  const repo = join(tmp, name);
  for (const [path, text] of Object.entries({
    "build.ts": "// build\n",
    "package.json": "{}\n",
    "src/core/names.ts": "export const a = 1;\n",
    "src/core/names.test.ts": "// test\n",
    "targets/linux-x64.ts": "export default {};\n",
    "packaging/share/config.md": "# config\n",
    "test/e2e.test.ts": "// e2e\n",
    "README.md": "# readme\n",
  })) {
    mkdirSync(join(repo, path, ".."), { recursive: true });
    writeFileSync(join(repo, path), text);
  }
  mkdirSync(join(repo, "dist"));
  writeFileSync(join(repo, "dist", STAMP_FILE), `${inputsDigest(repo, ["a", "b"])}\n`);
  return repo;
}

const state = (repo: string) => buildState(repo, join(repo, "dist"), ["a", "b"]);

test("a stamped build of the current inputs is current; no stamp is missing", () => {
  const repo = repoWithBuild("current");
  expect(state(repo)).toBe("current");
  rmSync(join(repo, "dist", STAMP_FILE));
  expect(state(repo)).toBe("missing");
});

test("editing, adding or renaming a source, a target or a packaging file makes it stale", () => {
  for (const [name, change] of [
    ["edit", (r: string) => writeFileSync(join(r, "src/core/names.ts"), "export const a = 2;\n")],
    ["add", (r: string) => writeFileSync(join(r, "src/core/extra.ts"), "")],
    ["target", (r: string) => writeFileSync(join(r, "targets/linux-x64.ts"), "export {};\n")],
    ["packaging", (r: string) => writeFileSync(join(r, "packaging/share/config.md"), "# new\n")],
    [
      "rename",
      (r: string) => {
        cpSync(join(r, "src/core/names.ts"), join(r, "src/core/renamed.ts"));
        rmSync(join(r, "src/core/names.ts"));
      },
    ],
  ] as const) {
    const repo = repoWithBuild(name);
    change(repo);
    expect(`${name}: ${state(repo)}`).toBe(`${name}: stale`);
  }
});

test("tests, test/ and docs are not inputs", () => {
  const repo = repoWithBuild("tests");
  writeFileSync(join(repo, "src/core/names.test.ts"), "// changed\n");
  writeFileSync(join(repo, "test/e2e.test.ts"), "// changed\n");
  writeFileSync(join(repo, "README.md"), "# changed\n");
  expect(state(repo)).toBe("current");
});

test("a build of other targets (bun build.ts --only ...) is not current", () => {
  const repo = repoWithBuild("targets");
  expect(buildState(repo, join(repo, "dist"), ["a"])).toBe("stale");
  expect(buildState(repo, join(repo, "dist"), ["a", "b", "c"])).toBe("stale");
});
