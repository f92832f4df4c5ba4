/** Fuzzing iotad's config file (AgentConfigSchema through `iotad run` and `check-config`): every bad field named, nothing written. */

import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCommand } from "../../src/iotad/commands.ts";
import { systemClock } from "../../src/iotad/clock.ts";
import { nodeDisk } from "../../src/iotad/disk.ts";
import { nodeLockHost } from "../../src/core/lock-host.ts";
import type { Runtime } from "../../src/iotad/runtime.ts";
import {
  deepJson,
  hugeString,
  invalidName,
  notAString,
  randomJson,
  randomString,
} from "./hostile-values.ts";
import { countFromEnv, Histogram, seedFromEnv, type Prng } from "./prng.ts";

const CASES = countFromEnv("FUZZ_CASES", 3000) / 3;
const tmp = mkdtempSync(join(tmpdir(), "iotad-config-fuzz-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A runtime whose network and listener must never be reached: a bad config stops before them. */
function runtime(stderr: string[], touched: string[]): Runtime {
  const refuse = (what: string) => () => {
    touched.push(what);
    throw new Error(`${what} used with an invalid config`);
  };
  return {
    env: {},
    cwd: tmp,
    stdout: () => {},
    stderr: (text) => void stderr.push(text),
    clock: systemClock(),
    random: Math.random,
    disk: nodeDisk(),
    locks: nodeLockHost(nodeDisk()),
    readText: (path) => readFileSync(path, "utf8"),
    host: { sysfs: join(tmp, "no-sysfs") },
    transport: refuse("the network") as unknown as Runtime["transport"],
    mqttConnect: refuse("MQTT") as unknown as Runtime["mqttConnect"],
    listen: refuse("the status listener") as unknown as Runtime["listen"],
    onSignal: () => {},
  };
}

/** The field names of a config and a value each of them must refuse. */
const FIELD_BREAKERS: Record<string, (rng: Prng) => unknown> = {
  server: (rng) =>
    rng.pick<unknown>([
      "iota.example.com",
      "ftp://iota.example.com",
      "",
      "http//x",
      notAString(rng),
      randomString(rng),
    ]),
  "server:plain-http": (rng) =>
    rng.pick<unknown>(["http://iota.example.com", "http://10.0.0.5:8440", "http://[fe80::1]:8440"]),
  insecureHttp: (rng) => rng.pick<unknown>(["yes", 1, 0, null, "true"]),
  serverCa: (rng) =>
    rng.pick<unknown>(["not a pem", "-----BEGIN PRIVATE KEY-----", notAString(rng)]),
  tenant: invalidName,
  group: invalidName,
  device: invalidName,
  token: (rng) => rng.pick<unknown>(["", notAString(rng)]),
  dataDir: (rng) => rng.pick<unknown>(["", notAString(rng)]),
  statusListen: (rng) =>
    rng.pick<unknown>([
      "7780",
      "localhost",
      "127.0.0.1:-1",
      ":",
      "[::1]",
      "127.0.0.1:123456",
      notAString(rng),
      randomString(rng),
    ]),
  "statusListen:port": () => "127.0.0.1:99999",
  "renewal.fraction": (rng) => rng.pick<unknown>([-1, 0, 0.05, 0.99, 2, "0.5", null, [], NaN]),
  "renewal.jitter": (rng) => rng.pick<unknown>([-0.1, 0.6, 5, "0.05", true]),
  "renewal.spreadFirst": (rng) => rng.pick<unknown>(["yes", 1, 0, null, "true"]),
  "mqtt.url": (rng) =>
    rng.pick<unknown>([
      "http://broker:8883",
      "broker:8883",
      "",
      notAString(rng),
      randomString(rng),
    ]),
  "mqtt.ca": (rng) => rng.pick<unknown>(["not a pem", notAString(rng)]),
  "mqtt.topicPrefix": (rng) =>
    rng.pick<unknown>(["a b", "#", "+/x", "", "iota/\u0000", notAString(rng)]),
  "device:source": (rng) =>
    rng.pick<unknown>([
      { from: "command:hostname" },
      { from: "dmi:bios_version" },
      { from: "mac:../../etc" },
      { from: "file:" },
      { from: "/etc/machine-id" },
      { from: "mac:eth0", prefix: "Dev_" },
      { from: "mac:eth0", prefix: "-" },
      { from: "file:/etc/machine-id", name: "x" },
      { prefix: "dev-" },
      { from: notAString(rng) },
    ]),
  afterRenew: (rng) => rng.pick<unknown>(["", notAString(rng)]),
  tokenFile: () => "missing-token-file",
};

/** Values iotad checks after the schema: the credential file is read, the port range checked. */
const SECOND_STAGE = new Set(["tokenFile", "statusListen:port"]);
/** The schema's cross-field rule (plain http beyond loopback): checked once every field passes, before any file is read. */
const CROSS_FIELD = new Set(["server:plain-http"]);

function validConfig(dataDir: string): Record<string, unknown> {
  return {
    server: "http://127.0.0.1:1",
    group: "room2-lights",
    device: "test-device-123",
    token: "KFyRFYOfNkEYgOdfHhKYTM7QtyBBB7I2DEMsmecRxdE",
    dataDir,
    statusListen: "127.0.0.1:0",
    renewal: { fraction: 0.66, jitter: 0.05, spreadFirst: true },
    mqtt: { url: "mqtts://127.0.0.1:1", topicPrefix: "iota" },
  };
}

/** Sets `path` (dotted) in `config`; `tokenFile` replaces the token, since exactly one credential is allowed. */
function setField(config: Record<string, unknown>, path: string, value: unknown): void {
  if (path === "tokenFile") delete config.token;
  const [head = "", tail] = (path.split(":")[0] ?? "").split(".");
  if (tail === undefined) config[head] = value;
  else (config[head] as Record<string, unknown>)[tail] = value;
}

test(`${CASES} malformed iotad configs: exit 2, every broken field named, no data folder, no socket`, async () => {
  const rng = seedFromEnv("iotad config fuzz");
  const histogram = new Histogram();
  const failures: string[] = [];
  for (let i = 0; i < CASES; i++) {
    const dataDir = join(tmp, `data-${i}`);
    const config = validConfig(dataDir);
    const expected: string[] = [];
    let text: string;
    const shape = rng.int(0, 9);
    if (shape === 0) {
      text = rng.pick([
        randomString(rng, 100),
        deepJson(rng),
        JSON.stringify(randomJson(rng)),
        JSON.stringify(config).slice(0, rng.int(0, 50)),
        `{"server":"${hugeString(rng)}"}`,
      ]);
      histogram.add("not a config object");
    } else if (shape === 1) {
      const key = `${rng.pick(["sever", "groups", "Device", "data_dir", "__proto__x", "tokn"])}`;
      config[key] = randomJson(rng);
      expected.push(key);
      text = JSON.stringify(config);
      histogram.add("unknown field");
    } else if (shape === 2) {
      const field = rng.pick(["server", "group", "device"]);
      delete config[field];
      expected.push(field);
      text = JSON.stringify(config);
      histogram.add("missing required field");
    } else {
      const fields = new Set<string>();
      const n = rng.int(1, 3);
      // Hint: one breaker per field (token and tokenFile are one credential), so a later one cannot undo an earlier one.
      const base = (f: string) => (f === "tokenFile" ? "token" : f.split(":")[0]);
      while (fields.size < n) {
        const f = rng.pick(Object.keys(FIELD_BREAKERS));
        if (![...fields].some((g) => base(g) === base(f))) fields.add(f);
      }
      for (const f of fields) {
        setField(config, f, (FIELD_BREAKERS[f] as (r: Prng) => unknown)(rng));
        expected.push(f);
        histogram.add(`bad ${f}`);
      }
      text = JSON.stringify(config);
    }
    const file = join(tmp, `config-${i}.json`);
    writeFileSync(file, text);
    const stderr: string[] = [];
    const touched: string[] = [];
    const command = rng.pick(["run", "check-config", "provision"] as const);
    const code = await runCommand(
      { kind: "command", command, config: file, json: false },
      runtime(stderr, touched),
    );
    const out = stderr.join("");
    const problems: string[] = [];
    if (code !== 2) problems.push(`exit ${code}`);
    if (!out.includes(file)) problems.push("the message does not name the file");
    // Hint: reading tokenFile and the port range are checked once the schema passes (iotad's second stage), so they are
    // expected only when no other field is broken.
    const fieldStage = expected.filter((f) => !SECOND_STAGE.has(f) && !CROSS_FIELD.has(f));
    const crossStage = expected.filter((f) => CROSS_FIELD.has(f));
    const firstStage =
      fieldStage.length > 0 ? fieldStage : crossStage.length > 0 ? crossStage : expected;
    for (const f of firstStage) {
      // Hint: a field inside an object (device.from) names its parent too.
      const name = f.split(":")[0];
      if (!out.includes(`"${name}"`) && !out.includes(`"${name}.`))
        problems.push(`field ${f} not named`);
    }
    if (existsSync(dataDir)) problems.push("the data folder was created");
    if (touched.length > 0) problems.push(`touched ${touched.join(", ")}`);
    if (out.includes("KFyRFYOfNkEYgOdfHhKYTM7QtyBBB7I2DEMsmecRxdE"))
      problems.push("the token was printed");
    if (problems.length > 0 && failures.length < 15)
      failures.push(
        `case ${i} (${command}) ${text.slice(0, 300)}: ${problems.join("; ")}\n  stderr: ${out.slice(0, 400)}`,
      );
  }
  console.log(`iotad config fuzz: ${CASES} cases:\n${histogram.format()}`);
  expect(failures).toEqual([]);
  expect(readdirSync(tmp).filter((n) => n.startsWith("data-"))).toEqual([]);
}, 300_000);
