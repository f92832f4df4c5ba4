/**
 * Benchmark: mass device creation with the compiled iotactl against a real iota-server, the built-in bulk
 * form (`add device --from-file`, 100,000 names) against the seed's one-process-per-device shell loop.
 */

import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT, buildIotactl, run, tempDir } from "../test/iotactl-support.ts";
import { startServerProcess } from "../test/helpers/server-process.ts";

/** The figures of one run. */
export interface MassCreateResult {
  bulk: { devices: number; seconds: number; perSecond: number; msPerDevice: number };
  loop: { devices: number; seconds: number; perSecond: number; msPerDevice: number };
  /** How many times faster the bulk form is per device. */
  ratio: number;
}

const rate = (devices: number, ms: number) => ({
  devices,
  seconds: ms / 1000,
  perSecond: devices / (ms / 1000),
  msPerDevice: ms / devices,
});

/** Runs the benchmark: `bulkCount` names through `--from-file`, `loopCount` through the seed's script. */
export async function main(bulkCount = 100_000, loopCount = 300): Promise<MassCreateResult> {
  const dir = tempDir("iota-bench-");
  const server = await startServerProcess({ tls: true });
  try {
    const bin = await buildIotactl(dir);
    const env = {
      PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
      IOTA_SERVER: server.url,
      IOTA_TOKEN: server.token(),
      IOTA_CA_FILE: join(server.data, "server-ca.pem"),
      XDG_CONFIG_HOME: join(dir, "xdg"),
    };

    // Built-in bulk form: one process, batches of 10,000 names.
    writeFileSync(
      join(dir, "names.txt"),
      `${Array.from({ length: bulkCount }, (_, i) => `unit-${i + 1}`).join("\n")}\n`,
    );
    const group = await run(["iotactl", "add", "group", "bulk-bench"], { env, cwd: dir });
    if (group.code !== 0) throw new Error(`add group failed: ${group.stderr}`);
    let started = performance.now();
    const bulk = await run(
      ["iotactl", "add", "device", "-g", "bulk-bench", "--from-file", "names.txt"],
      { env, cwd: dir },
    );
    const bulkMs = performance.now() - started;
    if (bulk.code !== 0 || !bulk.stdout.includes(`created: ${bulkCount}`))
      throw new Error(`bulk creation failed: ${bulk.stdout}${bulk.stderr}`);

    // The seed's numbered-devices script, verbatim but for the count: one iotactl process per device.
    const script = readFileSync(join(ROOT, "scripts/create-numbered-devices.sh"), "utf8");
    if (!script.includes("device_count=100\n"))
      throw new Error("scripts/create-numbered-devices.sh no longer sets device_count=100");
    writeFileSync(
      join(dir, "seed.sh"),
      script.replace("device_count=100\n", `device_count=${loopCount}\n`),
    );
    started = performance.now();
    const loop = await run(["sh", "seed.sh"], { env, cwd: dir });
    const loopMs = performance.now() - started;
    if (loop.code !== 0) throw new Error(`the seed's loop failed: ${loop.stderr}`);

    const result: MassCreateResult = {
      bulk: rate(bulkCount, bulkMs),
      loop: rate(loopCount, loopMs),
      ratio: 0,
    };
    result.ratio = result.bulk.perSecond / result.loop.perSecond;
    return result;
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const r = await main();
  const f = (n: number, d = 0) =>
    n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
  process.stdout.write(
    `mass device creation (compiled iotactl, real iota-server on SQLite)\n` +
      `  bulk  --from-file: ${f(r.bulk.devices)} devices in ${f(r.bulk.seconds, 2)} s = ${f(r.bulk.perSecond)} devices/s, ${f(r.bulk.msPerDevice, 4)} ms/device\n` +
      `  seed  shell loop:  ${f(r.loop.devices)} devices in ${f(r.loop.seconds, 2)} s = ${f(r.loop.perSecond, 1)} devices/s, ${f(r.loop.msPerDevice, 1)} ms/device\n` +
      `  ratio: the bulk form is ${f(r.ratio)}x faster per device\n`,
  );
}
