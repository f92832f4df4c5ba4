/** Fuzzing iotactl's command line in process: every malformed flag or name exits 2 naming it; no network, nothing written. */

import { afterAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runIotactl } from "../helpers/iotactl-in-process.ts";
import { invalidName, randomString } from "./hostile-values.ts";
import { countFromEnv, Histogram, seedFromEnv, type Prng } from "./prng.ts";

const CASES = countFromEnv("FUZZ_CASES", 3000) / 3;
const tmp = mkdtempSync(join(tmpdir(), "iotactl-fuzz-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A string argument that breaks the naming rule (never a non-string: argv holds strings). */
function badName(rng: Prng): string {
  const name = invalidName(rng);
  return typeof name === "string" && !name.startsWith("-") && name !== ""
    ? name
    : rng.pick(["Upper", "a--b", "x_y", "a".repeat(64), "trail-"]);
}

/** One command line with exactly one broken part, and the words the one-line reason must contain. */
function brokenCommand(rng: Prng, cwd: string): { argv: string[]; names: string[]; label: string } {
  const secretFile = join(cwd, "prov_secret.txt");
  const kind = rng.int(0, 13);
  switch (kind) {
    case 0:
      return {
        argv: ["add", "group", badName(rng)],
        names: ["group name"],
        label: "add group: bad name",
      };
    case 1:
      return {
        argv: [
          "add",
          "group",
          "room2-lights",
          rng.pick(["--validity", "--renew-grace"]),
          rng.pick(["abc", "1y", "-1d", "30 d", "1.5h", ""]),
        ],
        names: ["--"],
        label: "add group: bad duration",
      };
    case 2:
      return {
        argv: ["add", "device", "-g", badName(rng), "dev-1"],
        names: ["group name"],
        label: "add device: bad group",
      };
    case 3:
      return {
        argv: ["add", "device", "-g", "room2-lights", badName(rng)],
        names: ["device name"],
        label: "add device: bad name",
      };
    case 4:
      return {
        argv: [
          "add",
          "device",
          "-g",
          "room2-lights",
          "--count",
          rng.pick(["0", "-5", "abc", "1.5", "1e3", "100000000", ""]),
          "--prefix",
          "test-",
        ],
        names: ["--count"],
        label: "add device: bad --count",
      };
    case 5:
      return {
        argv: ["add", "device", "-g", "room2-lights", "--from-file", join(cwd, "missing.txt")],
        names: ["missing.txt"],
        label: "add device: missing --from-file",
      };
    case 6:
      return {
        argv: [
          "gen",
          "config",
          "-g",
          "room2-lights",
          badName(rng),
          "--secret-file",
          secretFile,
          "--out",
          join(cwd, "out"),
        ],
        names: ["device name"],
        label: "gen config: bad device",
      };
    case 7: {
      const [flag, value] = rng.pick<[string, string]>([
        [
          "--server-url",
          rng.pick(["ftp://x", "iota.example.com", "http//x", randomString(rng, 10) || "x"]),
        ],
        ["--mqtt-url", rng.pick(["http://broker:8883", "broker:8883", "nope"])],
        ["--status-listen", rng.pick(["7780", "localhost", ":", "host:123456"])],
        ["--data-dir", ""],
      ]);
      const argv = [
        "gen",
        "config",
        "-g",
        "room2-lights",
        "dev-1",
        "--secret-file",
        secretFile,
        "--out",
        join(cwd, "out"),
        flag,
        value,
      ];
      if (flag !== "--mqtt-url") argv.push("--mqtt-url", "mqtts://broker:8883");
      return { argv, names: [flag], label: `gen config: bad ${flag}` };
    }
    case 8:
      return {
        argv: [
          "gen",
          "config",
          "-g",
          "room2-lights",
          "dev-1",
          "--secret-file",
          join(cwd, "no-secret.txt"),
          "--out",
          join(cwd, "out"),
        ],
        names: ["--secret-file"],
        label: "gen config: missing secret file",
      };
    case 9:
      return {
        argv: [
          "provision",
          "-g",
          "room2-lights",
          badName(rng),
          "--secret-file",
          secretFile,
          "--out",
          join(cwd, "out"),
        ],
        names: ["device name"],
        label: "provision: bad device",
      };
    case 10:
      return {
        argv: [
          "provision",
          "-g",
          "room2-lights",
          "dev-1",
          "--secret-file",
          join(cwd, "no-secret.txt"),
          "--out",
          join(cwd, "out"),
        ],
        names: ["--secret-file"],
        label: "provision: missing secret file",
      };
    case 11:
      return {
        argv: [
          "configure",
          "--server",
          rng.pick(["ftp://x", "iota", "http//x", "://"]),
          "--token-file",
          join(cwd, "token.txt"),
        ],
        names: ["server"],
        label: "configure: bad --server",
      };
    case 12:
      return {
        argv: [
          "configure",
          "--server",
          "http://127.0.0.1:8440",
          "--token-file",
          join(cwd, "no-token.txt"),
        ],
        names: ["no-token.txt"],
        label: "configure: missing token file",
      };
    default: {
      const flag = rng.pick(["--cout", "--grup", "--secretfile", "-x", "--validty"]);
      return {
        argv: [
          ...rng.pick([
            ["add", "group", "g"],
            ["add", "device", "-g", "g", "d"],
            ["gen", "config", "-g", "g", "d"],
            ["provision", "-g", "g", "d"],
          ]),
          flag,
          "1",
        ],
        names: [flag],
        label: "unknown flag",
      };
    }
  }
}

test(`${CASES} malformed iotactl command lines: exit 2 with a one-line reason naming the field; no request, nothing written`, async () => {
  const rng = seedFromEnv("iotactl fuzz");
  const histogram = new Histogram();
  const failures: string[] = [];
  for (let i = 0; i < CASES; i++) {
    const cwd = join(tmp, `case-${i}`);
    mkdirSync(cwd);
    writeFileSync(join(cwd, "prov_secret.txt"), "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5\n", {
      mode: 0o600,
    });
    writeFileSync(join(cwd, "token.txt"), "admin-token-value\n", { mode: 0o600 });
    const { argv, names, label } = brokenCommand(rng, cwd);
    const requests: string[] = [];
    const { code, stdout, stderr } = await runIotactl(argv, {
      dir: cwd,
      env: { IOTA_SERVER: "http://127.0.0.1:1", IOTA_TOKEN: "admin-token-value" },
      fetch: (async (url: string) => {
        requests.push(String(url));
        throw new Error("no network in this test");
      }) as unknown as typeof fetch,
    });
    histogram.add(`exit ${code} ${label}`);
    const problems: string[] = [];
    if (code !== 2) problems.push(`exit ${code}`);
    if (stdout !== "") problems.push(`stdout ${JSON.stringify(stdout.slice(0, 100))}`);
    if (stderr.trim().split("\n").length !== 1) problems.push("not one line");
    for (const n of names) if (!stderr.includes(n)) problems.push(`does not name ${n}`);
    if (requests.length > 0) problems.push(`sent ${requests.join(", ")}`);
    const left = readdirSync(cwd).sort().join(",");
    if (left !== "prov_secret.txt,token.txt") problems.push(`wrote ${left}`);
    for (const secret of ["Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5", "admin-token-value"])
      if (stderr.includes(secret)) problems.push("printed a secret");
    if (problems.length > 0 && failures.length < 15)
      failures.push(
        `${JSON.stringify(argv)}: ${problems.join("; ")}; stderr: ${stderr.slice(0, 300)}`,
      );
  }
  console.log(`iotactl fuzz: ${CASES} cases:\n${histogram.format()}`);
  expect(failures).toEqual([]);
}, 300_000);
