/**
 * Benchmark: `iotactl gen config` for 100,000 devices against a real iota-server (TLS, SQLite): the check
 * with the server (group, secret, every name), the writing, and the writer's fsyncs one after the other
 * against side by side.
 */

import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BUN, ROOT, run, tempDir } from "../test/iotactl-support.ts";
import { startServerProcess } from "../test/helpers/server-process.ts";
import { systemFiles } from "../src/iotactl/io.ts";
import { writeMany } from "../src/iotactl/write-many.ts";
import { syncFolder } from "../src/core/files.ts";

/** The figures of one run, in seconds. */
export interface GenConfigResult {
  devices: number;
  /** The command refused by its check (one name missing): the check alone, nothing written. */
  checkOnly: number;
  /** The whole command with the server check (listing the group page by page). */
  checked: number;
  /** The same command with --offline: reading, deriving tokens and writing only. */
  offline: number;
  /** Writing the same files in this process: one fsync after the other, as before. */
  serialWrites: number;
  /** Writing them with `writeMany` (fsyncs side by side, one folder sync). */
  parallelWrites: number;
}

const seconds = (since: number) => (performance.now() - since) / 1000;

/** Runs the benchmark for `count` devices. */
export async function main(count = Number(process.env.BENCH_GEN_DEVICES ?? 100_000)) {
  const dir = tempDir("iota-bench-gen-");
  const server = await startServerProcess({ tls: true });
  try {
    const env = {
      IOTA_SERVER: server.url,
      IOTA_TOKEN: server.token(),
      IOTA_CA_FILE: join(server.data, "server-ca.pem"),
      XDG_CONFIG_HOME: join(dir, "xdg"),
    };
    const iotactl = (args: string[]) =>
      run([BUN, join(ROOT, "src/iotactl/main.ts"), ...args], { env, cwd: dir });
    const names = Array.from({ length: count }, (_, i) => `unit-${i + 1}`);
    writeFileSync(join(dir, "names.txt"), `${names.join("\n")}\n`);
    const secret = await iotactl(["add", "group", "gen-bench"]);
    writeFileSync(join(dir, "prov_secret.txt"), secret.stdout);
    const added = await iotactl(["add", "device", "-g", "gen-bench", "-f", "names.txt"]);
    if (added.code !== 0) throw new Error(`add device failed: ${added.stderr}`);
    const gen = async (out: string, extra: string[]) => {
      const started = performance.now();
      const r = await iotactl(
        ["gen", "config", "-g", "gen-bench", "-f", "names.txt"].concat([
          "--secret-file",
          "prov_secret.txt",
          "--out",
          out,
          ...extra,
        ]),
      );
      const took = seconds(started);
      if (r.code !== 0 || readdirSync(join(dir, out)).length !== count)
        throw new Error(`gen config failed: ${r.stderr}`);
      rmSync(join(dir, out), { recursive: true });
      return took;
    };
    writeFileSync(join(dir, "names-one-missing.txt"), `${names.join("\n")}\nnever-created\n`);
    let started = performance.now();
    const refused = await iotactl(
      ["gen", "config", "-g", "gen-bench", "-f", "names-one-missing.txt"].concat([
        "--secret-file",
        "prov_secret.txt",
        "--out",
        "refused",
      ]),
    );
    const checkOnly = seconds(started);
    if (refused.code !== 3) throw new Error(`the missing name was not refused: ${refused.stderr}`);
    console.log(`the check alone (a refused run, one name missing): ${checkOnly.toFixed(1)} s`);
    const checked = await gen("checked", []);
    console.log(`gen config, checked: ${checked.toFixed(1)} s`);
    const offline = await gen("offline", ["--offline"]);
    console.log(`gen config --offline: ${offline.toFixed(1)} s`);

    const data = `${JSON.stringify({ server: server.url, group: "gen-bench", device: "unit-100000", token: "x".repeat(43), serverCa: "-".repeat(700) }, null, 2)}\n`;
    const files = () => names.map((n) => ({ name: `${n}.json`, data }));
    const serialDir = join(dir, "serial");
    systemFiles.mkdir(serialDir, 0o700);
    started = performance.now();
    for (const f of files()) systemFiles.writeFile(join(serialDir, f.name), f.data, 0o600);
    syncFolder(serialDir);
    const serialWrites = seconds(started);
    console.log(`writeFile one after the other: ${serialWrites.toFixed(1)} s`);
    rmSync(serialDir, { recursive: true });
    const parallelDir = join(dir, "parallel");
    systemFiles.mkdir(parallelDir, 0o700);
    started = performance.now();
    await writeMany(parallelDir, files(), 0o600);
    const parallelWrites = seconds(started);
    console.log(`writeMany: ${parallelWrites.toFixed(1)} s`);
    const result: GenConfigResult = {
      devices: count,
      checkOnly,
      checked,
      offline,
      serialWrites,
      parallelWrites,
    };
    console.log(JSON.stringify(result));
    return result;
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
