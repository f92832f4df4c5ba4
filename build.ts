#!/usr/bin/env bun
/** `npm run build`: builds every program for every target in targets/ into dist/, packages iotad for device images, and prints what it built. */

import { copyFileSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import { join, resolve } from "node:path";
import { TARGETS, type Target } from "./targets/index.ts";
import { ENTRIES, compileProgram } from "./packaging/build/compile.ts";
import { buildTarball } from "./packaging/build/tarball.ts";
import { buildDeb } from "./packaging/build/deb.ts";
import { writeChecksums } from "./packaging/build/checksums.ts";
import { artifactOf, formatTable, writeManifest, type Artifact } from "./packaging/build/report.ts";
import { inputsDigest, STAMP_FILE } from "./packaging/build/inputs.ts";
import { JobPool } from "./packaging/build/job-pool.ts";
import { RELEASE_XZ_LEVEL, type XzLevel } from "./packaging/build/run.ts";
import { VERSION } from "./src/core/version.ts";

const USAGE = `Usage: bun build.ts [--only TARGET,...] [--out DIR] [--fast-compression]

Builds iotad, iotactl and iota-server for the targets in targets/ into DIR (default dist/, emptied
first): executables, the Node.js bundle for 32-bit devices, device tarballs, .deb packages, the
server's systemd unit and SHA256SUMS, then prints a table of what it built. DIR/.inputs-sha256
records the digest of the sources it was built from (npm test builds again only when they changed).

  --only LIST   build only these targets (comma-separated names, e.g. linux-x64,linux-arm64)
  --out DIR     output folder (default dist)
  --fast-compression
                xz -1 instead of -6 for the tarballs and .debs: ~5x less CPU, ~12% larger files,
                the same contents (npm test builds this way; a release uses the default)
`;

interface BuildOptions {
  targets: Target[];
  out: string;
  xzLevel: XzLevel;
}

function parseArgs(args: string[]): BuildOptions | string {
  let only: string[] | undefined;
  let out = "dist";
  let xzLevel: XzLevel = RELEASE_XZ_LEVEL;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const value = args[i + 1];
    if (arg === "-h" || arg === "--help") return USAGE;
    if (arg === "--fast-compression") {
      xzLevel = 1;
      continue;
    }
    if ((arg === "--only" || arg === "--out") && (value === undefined || value.startsWith("--")))
      return `${arg} needs a value\n\n${USAGE}`;
    if (arg === "--only") only = (value ?? "").split(",").filter((s) => s !== "");
    else if (arg === "--out") out = value ?? out;
    else return `unknown argument ${JSON.stringify(arg)}\n\n${USAGE}`;
    i++;
  }
  const known = new Set(TARGETS.map((t) => t.name));
  const unknown = (only ?? []).filter((name) => !known.has(name));
  if (unknown.length > 0)
    return `unknown target(s) ${unknown.join(", ")}; known: ${[...known].join(", ")}`;
  return {
    targets: only ? TARGETS.filter((t) => only.includes(t.name)) : [...TARGETS],
    out,
    xzLevel,
  };
}

/** Builds the selected targets; returns the artifacts. */
async function build(repo: string, options: BuildOptions): Promise<Artifact[]> {
  const programs = new Set(options.targets.flatMap((t) => t.programs));
  const missing = [...programs].filter((p) => !existsSync(join(repo, ENTRIES[p])));
  if (missing.length > 0) {
    throw new Error(
      `missing program entries: ${missing.map((p) => `${p} (${ENTRIES[p]})`).join(", ")}; every target's programs must exist`,
    );
  }
  // Hint: taken before building, so sources edited during the build make the stamp stale.
  const digest = inputsDigest(
    repo,
    options.targets.map((t) => t.name),
  );
  const dist = resolve(repo, options.out);
  rmSync(dist, { recursive: true, force: true });
  mkdirSync(dist, { recursive: true });
  const artifacts: Artifact[] = [];
  // Hint: compressing the packages (xz, ~1 min of CPU per executable) runs beside the next compiles.
  const packaging = new JobPool(availableParallelism());
  const queue = (target: Target, kind: Artifact["kind"], pack: () => Promise<string>) => {
    const slot = artifacts.push(undefined as never) - 1;
    packaging.add(async () => {
      artifacts[slot] = artifactOf(await pack(), target.name, kind, "iotad");
    });
  };
  for (const target of options.targets) {
    for (const program of target.programs) {
      process.stderr.write(`build: ${program} for ${target.name}\n`);
      const file = await compileProgram(process.execPath, repo, dist, program, target);
      artifacts.push(
        artifactOf(
          file,
          target.name,
          target.runtime.kind === "node" ? "node-bundle" : "executable",
          program,
        ),
      );
      if (program !== "iotad" || !target.packaging) continue;
      queue(target, "tarball", () => buildTarball(dist, VERSION, target, file, options.xzLevel));
      const debArch = target.packaging.debArch;
      if (debArch !== undefined)
        queue(target, "deb", () => buildDeb(dist, VERSION, target, debArch, file, options.xzLevel));
    }
  }
  await packaging.settled();
  if (programs.has("iota-server")) {
    // Hint: the server's systemd unit is the same for every target; docs/server.md installs it.
    const unit = join(dist, "iota-server.service");
    copyFileSync(join(repo, "packaging/systemd/iota-server.service"), unit);
    artifacts.push(artifactOf(unit, "any", "unit", "iota-server"));
  }
  await writeChecksums(
    dist,
    artifacts.map((a) => a.file),
  );
  writeManifest(dist, VERSION, artifacts);
  // Written last: a folder with this stamp holds a finished build of these inputs (npm test skips the build then).
  writeFileSync(join(dist, STAMP_FILE), `${digest}\n`);
  return artifacts;
}

const options = parseArgs(process.argv.slice(2));
if (typeof options === "string") {
  const help = options === USAGE;
  (help ? process.stdout : process.stderr).write(help ? options : `build: ${options}\n`);
  process.exit(help ? 0 : 2);
}
const started = performance.now();
try {
  const artifacts = await build(import.meta.dir, options);
  process.stdout.write(
    `${formatTable(artifacts)}\nSHA256SUMS and artifacts.json in ${options.out}/; built in ${((performance.now() - started) / 1000).toFixed(0)} s\n`,
  );
} catch (error) {
  process.stderr.write(`build: ${(error as Error).message}\n`);
  process.exit(1);
}
