/** SIGKILL of the compiled iotad at random instants of provisioning and renewal: after every restart a matching pair, ready, agreeing with the service. */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importPrivateKeyPem } from "../../src/core/csr.ts";
import { crypto, x509 } from "../../src/core/x509.ts";
import { deviceToken } from "../../src/core/token.ts";
import { countFromEnv, createPrng, Histogram } from "../fuzz/prng.ts";
import { BUN, ROOT, startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

const TRIALS = countFromEnv("FAULT_TRIALS", 3);
const tmp = mkdtempSync(join(tmpdir(), "iotad-kill-"));
const bin = join(tmp, "iotad");
let server: ServerProcess;
let secret = "";

beforeAll(async () => {
  const build = spawnSync(
    BUN,
    ["build", "--compile", join(ROOT, "src/iotad/main.ts"), "--outfile", bin],
    { cwd: ROOT, encoding: "utf8" },
  );
  if (build.status !== 0) throw new Error(`bun build --compile failed: ${build.stderr}`);
  server = await startServerProcess({ tls: true, data: join(tmp, "server") });
  secret = (
    (
      await server.adminCall("POST", "/v1/groups", {
        name: "kill",
        validity: "1m",
        renewGrace: "1h",
      })
    ).json as { provisioningSecret: string }
  ).provisioningSecret;
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** A running agent and its captured log. */
interface Agent {
  proc: ChildProcess;
  log(): string;
  exited: Promise<void>;
}

function startAgent(config: string): Agent {
  const proc = spawn(bin, ["run", "--config", config], { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  proc.stdout?.on("data", (d) => (log += d));
  proc.stderr?.on("data", (d) => (log += d));
  return { proc, log: () => log, exited: new Promise((done) => proc.once("exit", () => done())) };
}

/** Polls the agent's /status until `ok` holds; fails with the log after 30 s of trying. */
async function statusWhen(
  agent: Agent,
  ok: (s: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  for (let i = 0; i < 600; i++) {
    const url = /status endpoint on (http:\/\/\S+)/.exec(agent.log())?.[1];
    if (url) {
      const s = (await (await fetch(`${url.replace(/\/$/, "")}/status`)).json()) as Record<
        string,
        unknown
      >;
      if (ok(s)) return s;
    }
    await Bun.sleep(50);
  }
  throw new Error(`the agent never reached the expected state; log:\n${agent.log()}`);
}

/** The serial of cert.pem if its key is key.pem (or key.pending.pem, a swap the next start finishes); throws otherwise. */
async function checkPair(dir: string, allowPending: boolean): Promise<string | undefined> {
  if (!existsSync(join(dir, "cert.pem"))) return undefined;
  const cert = new x509.X509Certificate(readFileSync(join(dir, "cert.pem"), "utf8"));
  const spki = Buffer.from(cert.publicKey.rawData);
  for (const name of allowPending ? ["key.pem", "key.pending.pem"] : ["key.pem"]) {
    if (!existsSync(join(dir, name))) continue;
    const keys = await importPrivateKeyPem(readFileSync(join(dir, name), "utf8"));
    if (Buffer.from(await crypto.subtle.exportKey("spki", keys.publicKey)).equals(spki))
      return cert.serialNumber.toLowerCase();
  }
  throw new Error(`${dir}: no key matches cert.pem`);
}

/** How the last check ended, for the histogram. */
let lastOutcome = "";

/**
 * The agent's status once ready, the pair on disk and the service's record, read with no renewal ending in
 * between: the first renewal of a 1-minute certificate may fall due at any moment. Read again if one did.
 */
async function readTogether(
  agent: Agent,
  dir: string,
  device: string,
): Promise<{ s: Record<string, unknown>; onDisk: string | undefined; record: { serial: string } }> {
  for (let attempt = 1; ; attempt++) {
    const s = await statusWhen(agent, (x) => x.state === "ready");
    const onDisk = await checkPair(dir, false).catch((error: unknown) => error as Error);
    const record = (await server.adminCall("GET", `/v1/groups/kill/devices/${device}`)).json as {
      serial: string;
    };
    const after = await statusWhen(agent, () => true);
    if (after.serial === s.serial && after.renewals === s.renewals) {
      if (onDisk instanceof Error) throw onDisk;
      return { s, onDisk, record };
    }
    if (attempt === 3) throw new Error(`the agent renewed during each of three reads of ${device}`);
  }
}

/** Restarts the agent and checks: ready, a matching pair on disk, and the service's record naming the same serial. */
async function restartAndCheck(config: string, dir: string, device: string): Promise<string> {
  const agent = startAgent(config);
  try {
    const { s, onDisk, record } = await readTogether(agent, dir, device);
    expect(s.serial).toBe(onDisk);
    if (onDisk === record.serial) {
      lastOutcome = "agrees at once";
      return record.serial;
    }
    // The service issued a renewal whose answer the kill lost: the agent still holds its previous (valid) certificate
    // and the new key as key.pending.pem. Its next attempt must fetch exactly the certificate the service recorded.
    expect(existsSync(join(dir, "key.pending.pem"))).toBe(true);
    agent.proc.kill("SIGHUP");
    const after = await statusWhen(agent, (x) => x.serial !== s.serial && x.state === "ready");
    expect(after.serial).toBe(record.serial);
    expect(await checkPair(dir, false)).toBe(record.serial);
    expect(
      (
        (await server.adminCall("GET", `/v1/groups/kill/devices/${device}`)).json as {
          serial: string;
        }
      ).serial,
    ).toBe(record.serial);
    lastOutcome =
      "answer lost: the previous certificate held, the recorded one fetched on the next attempt";
    return record.serial;
  } finally {
    agent.proc.kill("SIGKILL");
    await agent.exited;
  }
}

test(`${TRIALS} trials: SIGKILL during provisioning and during renewal, then restart`, async () => {
  const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
  console.log(`iotad kill: FUZZ_SEED=${seed}, FAULT_TRIALS=${TRIALS}`);
  const rng = createPrng(seed);
  const outcomes = new Histogram();
  for (let trial = 0; trial < TRIALS; trial++) {
    const device = `dev-${trial}`;
    const dir = join(tmp, `data-${trial}`);
    const config = join(tmp, `config-${trial}.json`);
    expect(
      (await server.adminCall("POST", "/v1/groups/kill/devices", { name: device })).status,
    ).toBe(201);
    writeFileSync(
      config,
      JSON.stringify({
        server: server.url,
        serverCa: server.serverCaPem,
        group: "kill",
        device,
        token: deviceToken(secret, "kill", device),
        dataDir: dir,
        statusListen: "127.0.0.1:0",
      }),
    );

    // Provisioning: killed at a random instant after start.
    const first = startAgent(config);
    await Bun.sleep(rng.int(0, 400));
    first.proc.kill("SIGKILL");
    await first.exited;
    const before = await checkPair(dir, true);
    outcomes.add(
      before === undefined
        ? "provisioning: killed before a certificate was on disk"
        : "provisioning: killed after the certificate was on disk",
    );
    const serial = await restartAndCheck(config, dir, device);
    outcomes.add(`after the provisioning kill: ${lastOutcome}`);

    // Renewal: SIGHUP forces one; killed at a random instant after it.
    const second = startAgent(config);
    await statusWhen(second, (x) => x.state === "ready");
    second.proc.kill("SIGHUP");
    await Bun.sleep(rng.int(0, 150));
    second.proc.kill("SIGKILL");
    await second.exited;
    const mid = await checkPair(dir, true);
    outcomes.add(
      mid === serial
        ? "renewal: killed before the new certificate was on disk"
        : "renewal: killed after the new certificate was on disk",
    );
    await restartAndCheck(config, dir, device);
    outcomes.add(`after the renewal kill: ${lastOutcome}`);
  }
  console.log(`iotad kill: ${TRIALS} trials:\n${outcomes.format()}`);
}, 1_800_000);
