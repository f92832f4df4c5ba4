/**
 * The allocator settings iota-server runs with (src/iota-server/runtime-env.ts): Bun still knows each one and
 * each changes its default, and every launcher an operator uses carries the same values.
 */

import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { SERVER_RUNTIME_ENV } from "../src/iota-server/runtime-env.ts";

const ROOT = resolve(import.meta.dir, "..");
const entries = Object.entries(SERVER_RUNTIME_ENV);

/** The options Bun's allocator reports at start (`MIMALLOC_VERBOSE=1`), by name. */
function allocatorOptions(env: Record<string, string>): Map<string, string> {
  const run = Bun.spawnSync([process.execPath, "-e", ""], {
    env: { PATH: process.env.PATH ?? "", ...env, MIMALLOC_VERBOSE: "1" },
    stderr: "pipe",
  });
  const options = new Map<string, string>();
  for (const [, name, value] of run.stderr.toString().matchAll(/option '(\w+)': (-?\d+)/g))
    options.set(name as string, value as string);
  return options;
}

/** The mimalloc option a MIMALLOC_* variable sets. */
const optionOf = (variable: string) => variable.replace(/^MIMALLOC_/, "").toLowerCase();

test("Bun's allocator takes each setting, and each differs from its default", () => {
  expect(entries.length).toBeGreaterThan(0);
  const set = allocatorOptions({ ...SERVER_RUNTIME_ENV });
  const defaults = allocatorOptions({});
  for (const [variable, value] of entries) {
    expect(variable).toStartWith("MIMALLOC_");
    expect([variable, set.get(optionOf(variable))]).toEqual([variable, value]);
    expect(defaults.get(optionOf(variable))).toBeDefined();
    expect(defaults.get(optionOf(variable))).not.toBe(value);
  }
});

test("the systemd unit and npm run server carry the same settings, an operator's own value winning", () => {
  const unit = readFileSync(join(ROOT, "packaging/systemd/iota-server.service"), "utf8");
  const assigned = new Map<string, string>();
  for (const [, line] of unit.matchAll(/^Environment=(.*)$/gm))
    for (const pair of (line as string).split(/\s+/).filter(Boolean)) {
      const at = pair.indexOf("=");
      assigned.set(pair.slice(0, at), pair.slice(at + 1));
    }
  for (const [variable, value] of entries) expect(assigned.get(variable)).toBe(value);
  // Hint: EnvironmentFile= (the operator's settings) overrides Environment= in systemd.
  expect(unit).toContain("EnvironmentFile=-/etc/iota-server/env");

  const server = (
    JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as {
      scripts: Record<string, string>;
    }
  ).scripts.server as string;
  for (const [variable, value] of entries)
    expect(server).toContain(`${variable}=\${${variable}:-${value}} `);
  expect(server).toEndWith("bun src/iota-server/main.ts");
});
