/**
 * The operator's whole path over HTTPS with real processes: iotactl configure --fingerprint, groups and
 * devices, gen config (serverCa embedded), then iotad provisioning and renewing with only that trust, and
 * announcing itself on the embedded broker, whose certificate it verifies with the same server CA.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as v from "valibot";
import { AgentConfigSchema } from "../src/core/agent-config.ts";
import { certificateFingerprints } from "../src/core/fingerprint.ts";
import { startServerProcess, type ServerProcess } from "./helpers/server-process.ts";
import { run } from "./iotactl-support.ts";

const ROOT = resolve(import.meta.dir, "..");
const BUN = join(ROOT, "node_modules/.bin/bun");
let tmp: string;
let server: ServerProcess | undefined;
/** The https URL clients use, and the CA file its certificate chains to. */
let url: string;
let caFile: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "iota-https-flow-"));
  server = await startServerProcess({
    tls: true,
    data: join(tmp, "data"),
    args: ["--mqtt-listen", "127.0.0.1:0"],
  });
  url = server.url;
  caFile = join(server.data, "server-ca.pem");
});
afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const env = () => ({ XDG_CONFIG_HOME: join(tmp, "xdg") });
const iotactl = (args: string[], stdin?: string) =>
  run([BUN, join(ROOT, "src/iotactl/main.ts"), ...args], {
    env: env(),
    cwd: tmp,
    ...(stdin === undefined ? {} : { stdin }),
  });

test("configure --fingerprint, groups and devices, gen config with serverCa, then iotad provisions and renews trusting only it", async () => {
  const opensslFingerprint = Bun.spawnSync([
    "openssl",
    "x509",
    "-in",
    caFile,
    "-noout",
    "-fingerprint",
    "-sha256",
  ])
    .stdout.toString()
    .trim();
  expect(opensslFingerprint).toMatch(/^sha256 Fingerprint=([0-9A-F]{2}:){31}[0-9A-F]{2}$/i);
  const admin = join(tmp, "data", "admin-token");
  const configured = await iotactl([
    "configure",
    "--server",
    url,
    "--fingerprint",
    opensslFingerprint,
    "--token-file",
    admin,
  ]);
  expect(configured.stderr).toContain("trust: pinned CA, SHA-256");
  expect(configured.code).toBe(0);

  const secret = await iotactl(["add", "group", "room2-lights"]);
  expect(secret.code).toBe(0);
  writeFileSync(join(tmp, "prov_secret.txt"), secret.stdout);
  expect((await iotactl(["add", "device", "-g", "room2-lights", "test-device-123"])).code).toBe(0);
  const gen = await iotactl([
    "gen",
    "config",
    "-g",
    "room2-lights",
    "test-device-123",
    "--secret-file",
    "prov_secret.txt",
    "--out",
    "configs",
    "--data-dir",
    join(tmp, "device"),
    "--status-listen",
    "127.0.0.1:0",
    "--mqtt-url",
    server?.brokerUrl ?? "",
  ]);
  expect(gen.code).toBe(0);
  const configFile = join(tmp, "configs", "test-device-123.json");
  const config = v.parse(AgentConfigSchema, JSON.parse(readFileSync(configFile, "utf8")));
  expect(config.server).toBe(url);
  expect(certificateFingerprints(config.serverCa ?? "")).toEqual(
    certificateFingerprints(readFileSync(caFile, "utf8")),
  );

  const iotad = (command: string) =>
    run([BUN, join(ROOT, "src/iotad/main.ts"), command, "--config", configFile, "--json"], {
      env: {},
      cwd: tmp,
    });
  const provisioned = await iotad("provision");
  expect(provisioned.stderr).not.toContain("error");
  expect(provisioned.code).toBe(0);
  expect(existsSync(join(tmp, "device", "cert.pem"))).toBe(true);
  const first = JSON.parse(provisioned.stdout).serial;
  const renewed = await iotad("renew");
  expect(renewed.code).toBe(0);
  expect(JSON.parse(renewed.stdout).serial).not.toBe(first);
  const shown = JSON.parse(
    (await iotactl(["get", "device", "-g", "room2-lights", "test-device-123", "--json"])).stdout,
  );
  expect(shown).toMatchObject({ state: "provisioned", serial: JSON.parse(renewed.stdout).serial });

  // The daemon announces itself on the embedded broker: no mqtt.ca, so the broker is verified with serverCa.
  expect(config.mqtt?.ca).toBeUndefined();
  const daemon = Bun.spawn([BUN, join(ROOT, "src/iotad/main.ts"), "run", "--config", configFile], {
    cwd: tmp,
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    let log = "";
    void (async () => {
      const reader = daemon.stderr.getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read())
        log += new TextDecoder().decode(r.value);
    })();
    let mqtt = "";
    for (let i = 0; i < 150 && mqtt !== "connected"; i++) {
      await Bun.sleep(200);
      const endpoint = /status endpoint on (http:\/\/\S+)/.exec(log)?.[1];
      if (!endpoint) continue;
      const status = (await (await fetch(`${endpoint.replace(/\/$/, "")}/status`)).json()) as {
        mqtt: { state: string };
      };
      mqtt = status.mqtt.state;
    }
    expect(mqtt).toBe("connected");
    expect(server?.output()).toContain("mqtt: room2-lights/test-device-123 connected");
  } finally {
    daemon.kill("SIGTERM");
    await daemon.exited;
  }
}, 120_000);
