/** Build-time macros that turn the dashboard's browser sources into strings embedded in the program. */

import { readFileSync } from "node:fs";
import { join } from "node:path";

/**
 * Bundles the browser entry `entry` (relative to this folder) into one minified ES module and returns its
 * text. Imported `with { type: "macro" }`, it runs while Bun transpiles or compiles iota-server, so the
 * compiled executable carries the script itself and needs neither the sources nor a bundler at run time.
 */
export function bundleBrowserScript(entry: string): string {
  // Hint: a macro must return synchronously, and Bun.build is asynchronous: the same Bun bundles in a child.
  const build = Bun.spawnSync(
    [
      process.execPath,
      "build",
      join(import.meta.dir, entry),
      "--target=browser",
      "--format=esm",
      "--minify",
    ],
    { stdout: "pipe", stderr: "pipe", env: { ...process.env, NO_COLOR: "1" } },
  );
  if (build.exitCode !== 0)
    throw new Error(`bundling the dashboard's ${entry} failed:\n${build.stderr.toString()}`);
  return build.stdout.toString();
}

/** The text of `file` (relative to this folder), read while iota-server is transpiled or compiled. */
export function embedText(file: string): string {
  return readFileSync(join(import.meta.dir, file), "utf8");
}
