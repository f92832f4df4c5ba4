#!/usr/bin/env bun
/**
 * The import rules of src/, checked on the real import statements of every file, tests included:
 * programs (iota-server, iotactl, iotad) never import each other, src never imports from test/,
 * and src/core imports no program. `bun scripts/check-imports.ts [ROOT]`: quiet and exit 0 when
 * the rules hold, else one line per violation and exit 1.
 */

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import ts from "typescript";

/** The programs of src/: each may import src/core, never another program. */
export const PROGRAMS: readonly string[] = ["iota-server", "iotactl", "iotad"];

const SOURCE = /\.(ts|tsx|mts|cts|js|jsx|mjs|cjs)$/;

/** One import that breaks a rule. */
export interface Violation {
  /** The importing file, relative to the root (`src/iotad/agent.test.ts`). */
  file: string;
  line: number;
  /** The module specifier as written (`../iota-server/test-support.ts`). */
  specifier: string;
  /** What it resolves to, relative to the root. */
  target: string;
  /** The rule it breaks, in words. */
  rule: string;
}

/** Every source file under `dir`, relative to `root`, with `/` separators. */
function sourceFiles(root: string, dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true })
    .filter((entry) => entry.name !== "node_modules")
    .flatMap((entry) => {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory()) return sourceFiles(root, path);
      return entry.isFile() && SOURCE.test(entry.name) ? [path] : [];
    });
}

/** `import(…)` or `require(…)`. */
function isImportCall(callee: ts.Expression): boolean {
  return (
    callee.kind === ts.SyntaxKind.ImportKeyword ||
    (ts.isIdentifier(callee) && callee.text === "require")
  );
}

/** The module specifiers of a file's import and export-from statements, `import()` and `require()` calls and `import("…")` types, with lines. */
export function importsOf(path: string, text: string): { specifier: string; line: number }[] {
  const kind = /\.[jt]sx$/.test(path) ? ts.ScriptKind.TSX : ts.ScriptKind.TS;
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, false, kind);
  const found: { specifier: string; line: number }[] = [];
  const add = (node: ts.Node | undefined) => {
    if (node === undefined || !ts.isStringLiteralLike(node)) return;
    const line = file.getLineAndCharacterOfPosition(node.getStart(file)).line + 1;
    found.push({ specifier: node.text, line });
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add(node.moduleSpecifier);
    else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference)
    )
      add(node.moduleReference.expression);
    else if (ts.isCallExpression(node) && isImportCall(node.expression)) add(node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument))
      add(node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

/** Where a path (relative to the root) lies: a program, core, other src, test/, or elsewhere. */
function areaOf(path: string): {
  kind: "program" | "core" | "src" | "test" | "other";
  name: string;
} {
  const [top, second = ""] = path.split("/");
  if (top === "test") return { kind: "test", name: "test" };
  if (top !== "src") return { kind: "other", name: top ?? "" };
  if (second === "core") return { kind: "core", name: "core" };
  return PROGRAMS.includes(second)
    ? { kind: "program", name: second }
    : { kind: "src", name: "src" };
}

/** The rule an import from `from` to `to` (both relative to the root, `from` in src/) breaks, if any. */
function ruleBroken(from: string, to: string): string | undefined {
  const source = areaOf(from);
  const target = areaOf(to);
  if (target.kind === "test") return "src never imports from test/";
  if (source.kind === "core" && target.kind === "program")
    return `src/core imports no program (core → ${target.name})`;
  if (source.kind === "program" && target.kind === "program" && source.name !== target.name)
    return `programs never import each other (${source.name} → ${target.name})`;
  return undefined;
}

/** Checks every source file under `<root>/src`; relative specifiers are resolved, packages are not the rules' concern. */
export function checkImports(root: string): Violation[] {
  const violations: Violation[] = [];
  for (const file of sourceFiles(root, "src")) {
    for (const { specifier, line } of importsOf(file, readFileSync(join(root, file), "utf8"))) {
      if (!specifier.startsWith(".") && !specifier.startsWith("/")) continue;
      const target = relative(root, resolve(root, dirname(file), specifier))
        .split(sep)
        .join("/");
      const rule = ruleBroken(file, target);
      if (rule !== undefined) violations.push({ file, line, specifier, target, rule });
    }
  }
  return violations;
}

/** One violation as the checker prints it: `file:line: imports "specifier" (target): rule`. */
export function formatViolation(v: Violation): string {
  return `${v.file}:${v.line}: imports "${v.specifier}" (${v.target}): ${v.rule}`;
}

if (import.meta.main) {
  const root = resolve(process.argv[2] ?? join(import.meta.dir, ".."));
  const violations = checkImports(root);
  for (const v of violations) console.error(formatViolation(v));
  if (violations.length > 0) {
    console.error(`check-imports: ${violations.length} import(s) break the rules of src/`);
    process.exit(1);
  }
}
