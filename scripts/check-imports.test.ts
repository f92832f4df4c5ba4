/** The import-rules checker on small source trees: a clean one passes, and each broken rule is named with its file and import. */

import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { checkImports, formatViolation } from "./check-imports.ts";

const tmp = mkdtempSync(join(tmpdir(), "iota-import-rules-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/**
 * A tree that keeps every rule, with the near misses a text search would flag: program paths in a
 * comment and in a plain string, test/ imported by test/, programs imported by test/.
 */
const CLEAN: Record<string, string> = {
  "src/core/names.ts": `export const names = 1;\n`,
  "src/core/index.ts": `export * from "./names.ts";\nexport type { Agent } from "../core/types.ts";\n`,
  "src/core/types.ts": `export type Agent = { name: string };\n`,
  "src/iotad/agent.ts": `import { names } from "../core/names.ts";\nexport const agent = names;\n`,
  "src/iotad/agent.test.ts": `import { expect, test } from "bun:test";\nimport { agent } from "./agent.ts";\ntest("agent", () => expect(agent).toBe(1));\n`,
  "src/iota-server/app.ts": [
    `import type { Agent } from "../core/types.ts";`,
    `// import { agent } from "../iotad/agent.ts";`,
    `const docs = 'import { main } from "../iotactl/main.ts"';`,
    `export const app = async () => [docs, await import("./routes.ts")] as const;`,
    `export type A = Agent;`,
    ``,
  ].join("\n"),
  "src/iota-server/routes.ts": `export const routes = require("../core/names.ts");\n`,
  "src/iotactl/main.ts": `import * as valibot from "valibot";\nexport { names } from "../core/index.ts";\nexport const v = valibot;\n`,
  "test/helpers/service.ts": `import { app } from "../../src/iota-server/app.ts";\nexport const service = app;\n`,
  "test/e2e.test.ts": `import { service } from "./helpers/service.ts";\nimport { agent } from "../src/iotad/agent.ts";\nexport { service, agent };\n`,
};

/** Writes the clean tree with `changes` applied into a fresh folder; returns it. */
function tree(name: string, changes: Record<string, string> = {}): string {
  const root = join(tmp, name);
  for (const [path, text] of Object.entries({ ...CLEAN, ...changes })) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  return root;
}

/** The checker's lines for a tree. */
const lines = (root: string) => checkImports(root).map(formatViolation);

test("a tree that keeps the rules passes, near misses in comments, strings and test/ included", () => {
  expect(lines(tree("clean"))).toEqual([]);
});

describe("each broken rule is named with its file, line and import", () => {
  test("a program's test imports another program's test support", () => {
    const root = tree("program-test", {
      "src/iotad/agent.test.ts": `import { expect } from "bun:test";\n\nimport { app } from "../iota-server/app.ts";\nexpect(app).toBeDefined();\n`,
    });
    expect(lines(root)).toEqual([
      `src/iotad/agent.test.ts:3: imports "../iota-server/app.ts" (src/iota-server/app.ts): programs never import each other (iotad → iota-server)`,
    ]);
  });

  test("programs import each other through import type, export-from, import(), import types and require()", () => {
    const root = tree("program-forms", {
      "src/iotactl/main.ts": [
        `import type { Agent } from "../iotad/agent.ts";`,
        `export { agent } from "../iotad/agent.ts";`,
        `export const load = () => import("../iota-server/routes.ts");`,
        `export type App = typeof import("../iota-server/app.ts");`,
        `export const later = (x: Agent) => [x, require("../iotad/agent.ts")];`,
        ``,
      ].join("\n"),
    });
    expect(lines(root)).toEqual([
      `src/iotactl/main.ts:1: imports "../iotad/agent.ts" (src/iotad/agent.ts): programs never import each other (iotactl → iotad)`,
      `src/iotactl/main.ts:2: imports "../iotad/agent.ts" (src/iotad/agent.ts): programs never import each other (iotactl → iotad)`,
      `src/iotactl/main.ts:3: imports "../iota-server/routes.ts" (src/iota-server/routes.ts): programs never import each other (iotactl → iota-server)`,
      `src/iotactl/main.ts:4: imports "../iota-server/app.ts" (src/iota-server/app.ts): programs never import each other (iotactl → iota-server)`,
      `src/iotactl/main.ts:5: imports "../iotad/agent.ts" (src/iotad/agent.ts): programs never import each other (iotactl → iotad)`,
    ]);
  });

  test("src imports from test/", () => {
    const root = tree("src-test", {
      "src/iota-server/store.test.ts": `import { service } from "../../test/helpers/service.ts";\nexport { service };\n`,
    });
    expect(lines(root)).toEqual([
      `src/iota-server/store.test.ts:1: imports "../../test/helpers/service.ts" (test/helpers/service.ts): src never imports from test/`,
    ]);
  });

  test("src/core imports a program", () => {
    const root = tree("core-program", {
      "src/core/names.ts": `export const names = 1;\nexport const later = () => import("../iotad/agent.ts");\n`,
    });
    expect(lines(root)).toEqual([
      `src/core/names.ts:2: imports "../iotad/agent.ts" (src/iotad/agent.ts): src/core imports no program (core → iotad)`,
    ]);
  });
});

test("the command exits 1 with one line per violation and a count, and 0 in silence on a clean tree", () => {
  const run = (root: string) =>
    spawnSync(process.execPath, [join(import.meta.dir, "check-imports.ts"), root], {
      encoding: "utf8",
    });
  const broken = run(
    tree("command", {
      "src/iotad/agent.ts": `import { app } from "../iota-server/app.ts";\nexport const agent = app;\n`,
    }),
  );
  expect(broken.status).toBe(1);
  expect(broken.stderr.trim().split("\n")).toEqual([
    `src/iotad/agent.ts:1: imports "../iota-server/app.ts" (src/iota-server/app.ts): programs never import each other (iotad → iota-server)`,
    "check-imports: 1 import(s) break the rules of src/",
  ]);
  const clean = run(tree("command-clean"));
  expect([clean.status, clean.stdout, clean.stderr]).toEqual([0, "", ""]);
});
