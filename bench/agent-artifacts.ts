/** The agents the footprint benchmark measures: iotad built as the release builds it, run as the packaged unit runs it, and its variants. */

import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { EXEC_ARGV, compileProgram } from "../packaging/build/compile.ts";
import { TARGETS } from "../targets/index.ts";

/** One way of shipping iotad: how to start it, with which environment, and the file that ships. */
export interface Artifact {
  name: string;
  file: string;
  command: (config: string) => [string, string[]];
  env: Record<string, string>;
}

/** The `Environment=NAME=VALUE` settings of the packaged systemd unit: what the agent runs with on a device. */
export function unitEnvironment(unit: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const match of unit.matchAll(/^Environment=([A-Z_]+)=(.*)$/gm))
    env[match[1] ?? ""] = match[2] ?? "";
  return env;
}

/**
 * Builds into `out` the linux executable of this machine's architecture as `npm run build` does
 * (and once more with `--smol`), and the Node.js bundle; `root` is the repository.
 */
export async function buildAgents(root: string, out: string): Promise<Artifact[]> {
  const bun = process.execPath;
  const target = TARGETS.find((t) => t.name === `linux-${process.arch}`);
  if (!target) throw new Error(`no linux-${process.arch} target to measure`);
  const packaged = await compileProgram(bun, root, out, "iotad", target);
  const smolDir = join(out, "smol");
  const smol = await compileProgram(bun, root, smolDir, "iotad", target, [...EXEC_ARGV, "--smol"]);
  const bundle = join(out, "iotad.mjs");
  const run = spawnSync(bun, ["build", "--target=node", "src/iotad/main.ts", "--outfile", bundle], {
    cwd: root,
    encoding: "utf8",
  });
  if (run.status !== 0) throw new Error(`bun build --target=node: ${run.stderr}`);
  const unit = unitEnvironment(readFileSync(join(root, "packaging/systemd/iotad.service"), "utf8"));
  const node = spawnSync("node", ["--version"], { encoding: "utf8" }).stdout.trim();
  const compiled = (file: string) => (config: string) =>
    [file, ["run", "--config", config]] as [string, string[]];
  return [
    {
      name: "iotad as packaged (unit env)",
      file: packaged,
      command: compiled(packaged),
      env: unit,
    },
    { name: "same, without the unit env", file: packaged, command: compiled(packaged), env: {} },
    { name: "as packaged + --smol", file: smol, command: compiled(smol), env: unit },
    {
      name: `iotad.mjs (node ${node})`,
      file: bundle,
      command: (config) => ["node", ["--no-deprecation", bundle, "run", "--config", config]],
      env: {},
    },
  ];
}
