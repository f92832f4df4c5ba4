/**
 * Trust, with real TLS listeners and certificates from two throwaway CAs: iotactl's fingerprint
 * bootstrap (a man in the middle relaying the real CA is caught), a pinned CA as the only trust of
 * iotactl and of iotad (even when another CA is a system root), and iotad's plain-http rule.
 */

import { afterAll, beforeAll, beforeEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { certificateFingerprints } from "../src/core/fingerprint.ts";
import { nodeHttpTransport, tlsOptions } from "../src/iotad/http-transport.ts";
import { runIotactl } from "./helpers/iotactl-in-process.ts";
import { verifiedTls } from "../src/iotactl/trust.ts";
import { recordingServer, type ThrowawayTls, throwawayTls } from "./helpers/throwaway-tls.ts";
import { run, tempDir } from "./iotactl-support.ts";

const ROOT = resolve(import.meta.dir, "..");
const BUN = join(ROOT, "node_modules/.bin/bun");
const ADMIN_TOKEN = "admin-token-for-the-genuine-server";

let tls: ThrowawayTls;
let dir: string;
/** Serves the pinned CA with a certificate the pinned CA issued: the real server. */
let genuine: ReturnType<typeof recordingServer>;
/** Relays the pinned CA's (public) PEM but presents a certificate from another CA: a man in the middle. */
let impostor: ReturnType<typeof recordingServer>;
let serverCaMissing = false;

const problem = (status: number, detail: string) =>
  new Response(JSON.stringify({ type: "about:blank", status, title: "x", detail }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });

/** A small stand-in for iota-server's API: enough for the trust steps. */
function api(request: Request): Response {
  const path = new URL(request.url).pathname;
  if (path === "/v1/server-ca" && !serverCaMissing)
    return new Response(tls.pinned.ca, { headers: { "content-type": "application/x-pem-file" } });
  if (path === "/v1/groups")
    return request.headers.get("authorization") === `Bearer ${ADMIN_TOKEN}`
      ? Response.json({ items: [] })
      : problem(401, "a valid admin token is required");
  if (path === "/v1/provision") return problem(403, "the token is not valid for this device");
  return problem(404, `no route ${path}`);
}

beforeAll(() => {
  tls = throwawayTls();
  genuine = recordingServer(api, { cert: tls.pinned.cert, key: tls.pinned.key });
  impostor = recordingServer(api, { cert: tls.other.cert, key: tls.other.key });
});
afterAll(() => {
  genuine.stop();
  impostor.stop();
  tls.remove();
});
beforeEach(() => {
  dir = tempDir("iota-trust-");
  writeFileSync(join(dir, "token.txt"), `${ADMIN_TOKEN}\n`);
  genuine.seen.length = 0;
  impostor.seen.length = 0;
  serverCaMissing = false;
});

/** iotactl in process, with the real fetch. */
async function iotactl(argv: string[], env: Record<string, string> = {}) {
  return await runIotactl(argv, { dir, env, fetch: globalThis.fetch });
}

const configFile = () => join(dir, "xdg", "iotactl", "config.json");
const fingerprintHex = () => tls.pinned.opensslFingerprint.replace(/^.*=/, "");

describe("iotactl configure --fingerprint", () => {
  test("pins the CA after a second, verified request; no token on either; admin calls then verify against it", async () => {
    const r = await iotactl([
      "configure",
      "--server",
      genuine.url,
      "--fingerprint",
      tls.pinned.opensslFingerprint,
      "--token-file",
      "token.txt",
    ]);
    expect(r.stderr).toContain("trust: pinned CA, SHA-256 ");
    expect(r.code).toBe(0);
    const saved = JSON.parse(readFileSync(configFile(), "utf8"));
    expect(saved.current).toBe(genuine.url);
    expect(saved.servers[genuine.url].token).toBe(ADMIN_TOKEN);
    expect(certificateFingerprints(saved.servers[genuine.url].ca)).toEqual([fingerprintHex()]);
    expect(genuine.seen).toEqual([
      { method: "GET", path: "/v1/server-ca", authorization: null },
      { method: "GET", path: "/v1/server-ca", authorization: null },
    ]);
    expect((await iotactl(["list", "groups"])).code).toBe(0);
    expect(genuine.seen.at(-1)).toEqual({
      method: "GET",
      path: "/v1/groups",
      authorization: `Bearer ${ADMIN_TOKEN}`,
    });
  });

  test.each([
    ["as openssl 3 prints it", (hex: string) => `sha256 Fingerprint=${hex}`],
    ["as openssl 1.1 prints it", (hex: string) => `SHA256 Fingerprint=${hex}`],
    ["hex with colons", (hex: string) => hex],
    ["lower case without colons", (hex: string) => hex.replace(/:/g, "").toLowerCase()],
  ])("accepts the fingerprint %s", async (_form, spell) => {
    const r = await iotactl([
      "configure",
      "--server",
      genuine.url,
      "--fingerprint",
      spell(fingerprintHex()),
    ]);
    expect({ code: r.code, stderr: r.stderr.includes("iotactl:") ? r.stderr : "" }).toEqual({
      code: 0,
      stderr: "",
    });
  });

  test("a wrong fingerprint is exit 7 naming both fingerprints; nothing is saved and no second request is made", async () => {
    const r = await iotactl([
      "configure",
      "--server",
      genuine.url,
      "--fingerprint",
      tls.other.opensslFingerprint,
      "--token-file",
      "token.txt",
    ]);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain(fingerprintHex());
    expect(r.stderr).toContain(tls.other.opensslFingerprint.replace(/^.*=/, ""));
    expect(r.stderr).toContain("nothing was saved");
    expect(r.stderr).not.toContain(ADMIN_TOKEN);
    expect(existsSync(configFile())).toBe(false);
    expect(genuine.seen).toEqual([{ method: "GET", path: "/v1/server-ca", authorization: null }]);
  });

  test("a man in the middle relaying the real CA, without a certificate chained to it, is exit 7; nothing is saved", async () => {
    const r = await iotactl([
      "configure",
      "--server",
      impostor.url,
      "--fingerprint",
      tls.pinned.opensslFingerprint,
      "--token-file",
      "token.txt",
    ]);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("does not verify against that CA");
    expect(r.stderr).toContain("relaying");
    expect(existsSync(configFile())).toBe(false);
    // The verified request never got through: the one request seen is the unverified first one.
    expect(impostor.seen).toEqual([{ method: "GET", path: "/v1/server-ca", authorization: null }]);
  });

  test("a server without a server CA (404) is exit 7 and nothing is saved", async () => {
    serverCaMissing = true;
    const r = await iotactl([
      "configure",
      "--server",
      genuine.url,
      "--fingerprint",
      fingerprintHex(),
    ]);
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("has no server CA to pin");
    expect(existsSync(configFile())).toBe(false);
  });

  test("--ca-file pins a CA without any request", async () => {
    const r = await iotactl(["configure", "--server", genuine.url, "--ca-file", tls.pinned.caFile]);
    expect(r.code).toBe(0);
    expect(genuine.seen).toEqual([]);
    const saved = JSON.parse(readFileSync(configFile(), "utf8"));
    expect(saved.servers[genuine.url].ca).toBe(tls.pinned.ca);
  });
});

describe("iotactl: a pinned CA is the only trust", () => {
  test("a server whose certificate does not chain to the pinned CA is exit 7 and gets no request", async () => {
    const env = { IOTA_SERVER: impostor.url, IOTA_TOKEN: ADMIN_TOKEN };
    const pinned = await iotactl(["list", "groups"], { ...env, IOTA_CA_FILE: tls.pinned.caFile });
    expect(pinned.code).toBe(7);
    expect(pinned.stderr).toContain(`cannot verify the identity of ${impostor.url}`);
    expect(pinned.stderr).toContain("does not chain to the pinned CA");
    const roots = await iotactl(["list", "groups"], env);
    expect(roots.code).toBe(7);
    expect(roots.stderr).toContain("the system roots do not vouch for it");
    expect(impostor.seen).toEqual([]);
  });

  test("the fetch TLS options hold the pinned CA alone and always verify", () => {
    expect(verifiedTls(tls.pinned.ca)).toEqual({ ca: tls.pinned.ca, rejectUnauthorized: true });
    expect(verifiedTls(undefined)).toEqual({ rejectUnauthorized: true });
  });

  test("even when the other CA is a system root (NODE_EXTRA_CA_CERTS), the pinned CA alone decides", async () => {
    const env = {
      NODE_EXTRA_CA_CERTS: tls.other.caFile,
      IOTA_SERVER: impostor.url,
      IOTA_TOKEN: ADMIN_TOKEN,
      XDG_CONFIG_HOME: join(dir, "xdg"),
    };
    const main = join(ROOT, "src/iotactl/main.ts");
    const pinned = await run([BUN, main, "list", "groups"], {
      env: { ...env, IOTA_CA_FILE: tls.pinned.caFile },
      cwd: dir,
    });
    expect(pinned.code).toBe(7);
    expect(impostor.seen).toEqual([]);
    // The control: without a pin, the same process trusts the other CA as a system root.
    const roots = await run([BUN, main, "list", "groups"], { env, cwd: dir });
    expect(roots.code).toBe(0);
    expect(impostor.seen.map((s) => s.path)).toEqual(["/v1/groups"]);
  }, 60_000);
});

describe("iotad: serverCa is the only trust for the server", () => {
  const get = (transport: ReturnType<typeof nodeHttpTransport>, url: string) =>
    transport({ method: "GET", url: `${url}/v1/server-ca`, headers: {} });

  test("the transport with serverCa accepts the server it issued for, refuses another CA's; without it, the system roots", async () => {
    const pinned = nodeHttpTransport({ ca: tls.pinned.ca });
    expect((await get(pinned, genuine.url)).status).toBe(200);
    const refused = await get(pinned, impostor.url).then(
      () => "answered",
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    );
    expect(refused).toMatch(/CERT|VERIFY|SELF_SIGNED/);
    expect(impostor.seen).toEqual([]);
    const roots = await get(nodeHttpTransport({}), genuine.url).then(
      () => "answered",
      (error: NodeJS.ErrnoException) => error.code ?? error.message,
    );
    expect(roots).toMatch(/CERT|VERIFY|SELF_SIGNED/);
  });

  test("the transport's TLS options hold serverCa alone (no system roots beside it) and always verify", () => {
    expect(tlsOptions(new URL("https://iota.example.com"), tls.pinned.ca)).toEqual({
      ca: tls.pinned.ca,
      rejectUnauthorized: true,
    });
    expect(tlsOptions(new URL("https://iota.example.com"), undefined)).toEqual({
      rejectUnauthorized: true,
    });
    expect(tlsOptions(new URL("http://127.0.0.1:8440"), tls.pinned.ca)).toEqual({});
  });

  test("iotad provision: with serverCa, a certificate from a CA that IS a system root is refused; without serverCa it is used", async () => {
    const config = (extra: Record<string, unknown>) => {
      const file = join(dir, `iotad-${Object.keys(extra).length}.json`);
      writeFileSync(
        file,
        JSON.stringify({
          server: impostor.url,
          group: "room2-lights",
          device: "test-device-123",
          token: "KFyRFYOfNkEYgOdfHhKYTM7QtyBBB7I2DEMsmecRxdE",
          dataDir: join(dir, "data"),
          statusListen: "127.0.0.1:0",
          ...extra,
        }),
      );
      return file;
    };
    const iotad = (file: string) =>
      run([BUN, join(ROOT, "src/iotad/main.ts"), "provision", "--config", file], {
        env: { NODE_EXTRA_CA_CERTS: tls.other.caFile },
        cwd: dir,
      });
    const pinned = await iotad(config({ serverCa: tls.pinned.ca }));
    expect(pinned.code).toBe(4);
    expect(pinned.stderr).toMatch(/CERT|VERIFY|SELF_SIGNED|certificate/);
    expect(pinned.stderr).toContain("its TLS certificate is not trusted (");
    expect(pinned.stderr).toContain("the config's serverCa must be the service's server CA");
    expect(impostor.seen).toEqual([]);
    // The control: the same process without serverCa trusts the other CA (a system root here).
    const roots = await iotad(config({}));
    expect(roots.code).toBe(3);
    expect(impostor.seen.map((s) => `${s.method} ${s.path}`)).toEqual(["POST /v1/provision"]);
  }, 60_000);

  test("a data folder that cannot be used stops check-config, provision and run with exit 5 naming it", async () => {
    writeFileSync(join(dir, "a-file"), "");
    const file = join(dir, "unusable.json");
    writeFileSync(
      file,
      JSON.stringify({
        server: "https://127.0.0.1:9",
        group: "room2-lights",
        device: "test-device-123",
        token: "t",
        dataDir: join(dir, "a-file", "data"),
        statusListen: "127.0.0.1:0",
      }),
    );
    for (const command of ["check-config", "provision", "run"]) {
      const r = await run([BUN, join(ROOT, "src/iotad/main.ts"), command, "-c", file], {
        env: {},
        cwd: dir,
      });
      expect(r.stderr).toContain(
        `data folder ${join(dir, "a-file", "data")}: a part of its path is a file, not a folder (ENOTDIR)`,
      );
      expect(r.stderr).not.toContain("unexpected failure");
      expect(r.code).toBe(5);
    }
  }, 60_000);

  test("iotad check-config refuses plain http beyond loopback, naming the server field; insecureHttp allows it", async () => {
    const file = join(dir, "http.json");
    const base = {
      server: "http://10.0.0.5:8440",
      group: "room2-lights",
      device: "test-device-123",
      token: "t",
      dataDir: join(dir, "data"),
    };
    writeFileSync(file, JSON.stringify(base));
    const check = () =>
      run([BUN, join(ROOT, "src/iotad/main.ts"), "check-config", "-c", file], {
        env: {},
        cwd: dir,
      });
    const refused = await check();
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`iotad: ${file}: field "server": http:// is allowed only`);
    writeFileSync(file, JSON.stringify({ ...base, insecureHttp: true }));
    const allowed = await check();
    expect(allowed.code).toBe(0);
    expect(allowed.stderr).toContain("clear text");
    writeFileSync(
      file,
      JSON.stringify({ ...base, server: "https://iota.example.com", serverCa: tls.pinned.ca }),
    );
    const pinned = await check();
    expect(pinned.stdout).toContain("at https://iota.example.com, trusting serverCa only, data in");
    rmSync(file);
  }, 60_000);
});
