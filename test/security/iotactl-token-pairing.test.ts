/**
 * An admin token is only ever sent to the server it was configured for (finding 8 of the hostile review):
 * real listeners record every Authorization header they receive.
 */

import { afterAll, afterEach, beforeAll, beforeEach, expect, test } from "bun:test";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runIotactl } from "../helpers/iotactl-in-process.ts";
import { recordingServer } from "../helpers/throwaway-tls.ts";
import { tempDir } from "../iotactl-support.ts";

const TOKEN_A = "token-of-server-a-0123456789";
const LOCAL_TOKEN = "token-of-the-local-service-0123";
const CA_PEM = "-----BEGIN CERTIFICATE-----\nTUlJ\n-----END CERTIFICATE-----\n";

/** Answers like an IoTA server: groups for any bearer, the CA in PEM. */
const api = (request: Request) =>
  new URL(request.url).pathname === "/v1/ca"
    ? new Response(CA_PEM, { headers: { "content-type": "application/x-pem-file" } })
    : Response.json({ items: [] });

let a: ReturnType<typeof recordingServer>;
let b: ReturnType<typeof recordingServer>;
let redirecting: ReturnType<typeof recordingServer>;
let dir: string;

beforeAll(() => {
  a = recordingServer(api);
  b = recordingServer(api);
  redirecting = recordingServer(
    (request) =>
      new Response(null, {
        status: 307,
        headers: { location: `${b.url}${new URL(request.url).pathname}` },
      }),
  );
});
afterAll(() => {
  for (const s of [a, b, redirecting]) s.stop();
});
beforeEach(() => {
  dir = tempDir("iotactl-pairing-");
  for (const s of [a, b, redirecting]) s.seen.length = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function iotactl(argv: string[], env: Record<string, string> = {}) {
  return await runIotactl(argv, { dir, env, fetch: globalThis.fetch });
}

/** Every Authorization header each server received. */
const tokensSeen = () => ({
  a: a.seen.map((s) => s.authorization),
  b: b.seen.map((s) => s.authorization),
  redirecting: redirecting.seen.map((s) => s.authorization),
});

async function configureA(): Promise<void> {
  writeFileSync(join(dir, "a-token.txt"), `${TOKEN_A}\n`);
  expect(
    (await iotactl(["configure", "--server", a.url, "--token-file", "a-token.txt"])).code,
  ).toBe(0);
}

test("IOTA_SERVER naming another server: admin commands fail with exit 5 and a clear reason; public calls carry no token", async () => {
  await configureA();
  const admin = await iotactl(["list", "groups"], { IOTA_SERVER: b.url });
  expect(admin.code).toBe(5);
  expect(admin.stderr).toContain(`no admin token for ${b.url} (from IOTA_SERVER)`);
  expect(admin.stderr).toContain("IOTA_TOKEN");
  expect((await iotactl(["get", "ca"], { IOTA_SERVER: b.url })).code).toBe(0);
  expect((await iotactl(["list", "groups"])).code).toBe(0);
  expect(tokensSeen()).toEqual({ a: [`Bearer ${TOKEN_A}`], b: [null], redirecting: [] });
});

test("IOTA_SERVER naming a configured server that is not the current one uses that server's own token", async () => {
  await configureA();
  writeFileSync(join(dir, "b-token.txt"), "token-of-server-b-0123456789\n");
  await iotactl(["configure", "--server", b.url, "--token-file", "b-token.txt"]);
  expect((await iotactl(["list", "groups"], { IOTA_SERVER: a.url })).code).toBe(0);
  expect((await iotactl(["list", "groups"])).code).toBe(0);
  expect(tokensSeen()).toEqual({
    a: [`Bearer ${TOKEN_A}`],
    b: ["Bearer token-of-server-b-0123456789"],
    redirecting: [],
  });
});

test("IOTA_SERVER with IOTA_TOKEN: the user pairs them, and only that token goes there", async () => {
  await configureA();
  const r = await iotactl(["list", "groups"], { IOTA_SERVER: b.url, IOTA_TOKEN: "paired-token" });
  expect(r.code).toBe(0);
  expect(tokensSeen()).toEqual({ a: [], b: ["Bearer paired-token"], redirecting: [] });
});

test("the local service's ./.iota/admin-token goes to https://127.0.0.1:8440 only, never to IOTA_SERVER", async () => {
  mkdirSync(join(dir, ".iota"));
  writeFileSync(join(dir, ".iota", "admin-token"), `${LOCAL_TOKEN}\n`);
  const r = await iotactl(["list", "groups"], { IOTA_SERVER: b.url });
  expect(r.code).toBe(5);
  expect((await iotactl(["get", "ca"], { IOTA_SERVER: b.url })).code).toBe(0);
  expect(tokensSeen()).toEqual({ a: [], b: [null], redirecting: [] });
  // Without IOTA_SERVER the local service is meant, and its token is paired with it.
  const local = JSON.parse((await iotactl(["configure", "--json"])).stdout);
  expect(local).toMatchObject({
    server: "https://127.0.0.1:8440",
    token: "set",
    tokenFrom: ".iota/admin-token",
  });
});

test("a redirect is reported, never followed: the token does not reach the server it points to", async () => {
  writeFileSync(join(dir, "t.txt"), `${TOKEN_A}\n`);
  await iotactl(["configure", "--server", redirecting.url, "--token-file", "t.txt"]);
  const r = await iotactl(["list", "groups"]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("redirect (307)");
  expect(r.stderr).toContain("does not follow redirects");
  expect(r.stderr).not.toContain(TOKEN_A);
  expect(tokensSeen()).toEqual({ a: [], b: [], redirecting: [`Bearer ${TOKEN_A}`] });
});

test("a token saved for one server stays with it when another server becomes the current one", async () => {
  await configureA();
  expect((await iotactl(["configure", "--server", b.url])).code).toBe(0);
  const r = await iotactl(["list", "groups"]);
  expect(r.code).toBe(5);
  expect(r.stderr).toContain(`no admin token for ${b.url}`);
  expect(tokensSeen()).toEqual({ a: [], b: [], redirecting: [] });
});
