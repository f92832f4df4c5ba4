/** Builds one program for one target: a Bun single executable, or a single-file bundle for Node.js on 32-bit devices. */

import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Program, Target } from "../../targets/index.ts";
import { runAsync } from "./run.ts";

/** The source entry of each program. */
export const ENTRIES: Record<Program, string> = {
  iotad: "src/iotad/main.ts",
  iotactl: "src/iotactl/main.ts",
  "iota-server": "src/iota-server/main.ts",
};

/** Where the executable of `program` for `target` lands in `dist` (a bundle `.mjs` for Node targets). */
export function executableName(program: Program, target: Target): string {
  if (target.runtime.kind === "node") return `${program}-${target.name}.mjs`;
  return `${program}-${target.name}${target.os === "windows" ? ".exe" : ""}`;
}

/**
 * Runtime flags compiled into every Bun executable. Hint: mqtt.js calls url.parse(); without
 * --no-deprecation the compiled runtime would print DEP0169 into every device log. (`--smol` was
 * measured and left out: bench/agent-footprint.ts, BENCHMARKS.md.)
 */
export const EXEC_ARGV: readonly string[] = ["--no-deprecation"];

/**
 * Compiles `program` for `target` into `dist`; resolves with the file's path.
 * `bun` is the Bun binary that builds (cross targets are fetched by Bun from the npm registry);
 * `execArgv` replaces {@link EXEC_ARGV} (the footprint benchmark tries other runtime flags).
 */
export async function compileProgram(
  bun: string,
  repo: string,
  dist: string,
  program: Program,
  target: Target,
  execArgv: readonly string[] = EXEC_ARGV,
): Promise<string> {
  const out = join(dist, executableName(program, target));
  const entry = join(repo, ENTRIES[program]);
  if (target.runtime.kind === "bun") {
    await runAsync(
      bun,
      [
        "build",
        entry,
        "--compile",
        "--minify",
        "--bytecode",
        "--format=esm",
        `--target=${target.runtime.bunTarget}`,
        `--compile-exec-argv=${execArgv.join(" ")}`,
        // A device agent must not pick up a stray .env or bunfig.toml from its working folder.
        "--no-compile-autoload-dotenv",
        "--no-compile-autoload-bunfig",
        "--outfile",
        out,
      ],
      { cwd: repo },
    );
    // Never strip: the executable carries its JavaScript after the ELF sections.
    return out;
  }
  await runAsync(
    bun,
    ["build", entry, "--target=node", "--format=esm", "--minify", "--outfile", out],
    {
      cwd: repo,
    },
  );
  writeFileSync(out, nodeBundleText(readFileSync(out, "utf8"), program, target.runtime.minNode));
  // Hint: iotactl's bundle is the program a host runs; iotad's is read by its launcher and packaged as it is.
  if (program === "iotactl") chmodSync(out, 0o755);
  return out;
}

/**
 * The bundle as Node.js should see it: the entry's `#!/usr/bin/env bun` line and Bun's `// @bun`
 * marker go, replaced by `#!/usr/bin/env node` and a note naming the Node.js it needs. iotad's is started
 * by its launcher (with --no-deprecation); iotactl's runs as it is (`./iotactl-linux-armhf.mjs`).
 */
export function nodeBundleText(text: string, program: Program, minNode: number): string {
  const lines = text.split("\n");
  while (lines.length > 0 && (lines[0]?.startsWith("#!") || lines[0]?.trim() === "// @bun"))
    lines.shift();
  const started =
    program === "iotad"
      ? "started by the iotad launcher with --no-deprecation"
      : "run it directly, or with node";
  return [
    `#!/usr/bin/env node`,
    `// ${program} bundle for Node.js >= ${minNode}; ${started}.`,
    ...lines,
  ].join("\n");
}
