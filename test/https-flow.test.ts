/**
 * The operator's whole path over HTTPS with real processes: iotactl configure --fingerprint, groups and
 * devices, gen config (serverCa embedded), then iotad provisioning and renewing with only that trust.
 * iota-server serves HTTPS itself when it speaks the HTTPS contract; a server that still answers plain
 * http is put behind a TLS front (a Bun.serve listener with an openssl-made CA that serves
 * /v1/server-ca and passes everything else through), so the clients' side is exercised either way.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as v from "valibot";
import { AgentConfigSchema } from "../src/core/agent-config.ts";
import { certificateFingerprints } from "../src/core/fingerprint.ts";
import { throwawayTls, type ThrowawayTls } from "./helpers/throwaway-tls.ts";
import { run } from "./iotactl-support.ts";

const ROOT = resolve(import.meta.dir, "..");
const BUN = join(ROOT, "node_modules/.bin/bun");
let tmp: string;
let server: { kill(signal: NodeJS.Signals): void; exited: Promise<number> } | undefined;
let front: ReturnType<typeof Bun.serve> | undefined;
let tls: ThrowawayTls | undefined;
/** The https URL clients use, and the CA file its certificate chains to. */
let url: string;
let caFile: string;

/** Starts iota-server and reads its "listening on URL" line. */
async function startServer(data: string): Promise<string> {
  const proc = Bun.spawn(
    [BUN, join(ROOT, "src/iota-server/main.ts"), "--data", data, "--listen", "127.0.0.1:0"],
    {
      cwd: ROOT,
      stdout: "pipe",
      stderr: "ignore",
    },
  );
  server = proc;
  const reader = proc.stdout.getReader();
  let text = "";
  while (!/listening on (\S+)/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`iota-server exited before listening: ${text}`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  return /listening on (\S+)/.exec(text)?.[1] ?? "";
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), "iota-https-flow-"));
  const data = join(tmp, "data");
  const listening = await startServer(data);
  if (listening.startsWith("https://")) {
    url = listening;
    caFile = join(data, "server-ca.pem");
    return;
  }
  // Hint: a server without TLS of its own gets a TLS front, as behind a TLS-terminating proxy.
  tls = throwawayTls();
  const pinned = tls.pinned;
  front = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: pinned.cert, key: pinned.key },
    fetch: async (request) => {
      const path = new URL(request.url).pathname + new URL(request.url).search;
      if (path === "/v1/server-ca")
        return new Response(pinned.ca, { headers: { "content-type": "application/x-pem-file" } });
      const init: RequestInit = { method: request.method, headers: request.headers };
      if (request.method !== "GET" && request.method !== "HEAD")
        init.body = await request.arrayBuffer();
      return await fetch(`${listening}${path}`, init);
    },
  });
  url = `https://127.0.0.1:${front.port}`;
  caFile = pinned.caFile;
});
afterAll(async () => {
  front?.stop(true);
  server?.kill("SIGTERM");
  await server?.exited;
  tls?.remove();
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
}, 120_000);
