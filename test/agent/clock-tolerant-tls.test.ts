/**
 * The agent's request for a device whose clock is far off: a server certificate the local clock disagrees
 * with is accepted only when it chains to the pinned serverCa and names the host; nothing is sent before.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeHttpTransport } from "../../src/iotad/http-transport.ts";

const dir = mkdtempSync(join(tmpdir(), "iota-clock-tls-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs openssl in `dir` (under `faketime` at `at` when given), failing with its output. */
function openssl(at: string | undefined, ...args: string[]): void {
  const cmd = at ? ["faketime", at, "openssl", ...args] : ["openssl", ...args];
  const r = spawnSync(cmd[0] as string, cmd.slice(1), { cwd: dir, encoding: "utf8" });
  if (r.error || r.status !== 0)
    throw new Error(
      `${cmd.join(" ")}: ${r.error?.message ?? r.stderr} (needs openssl and faketime: apt-get install openssl faketime)`,
    );
}

/** A CA named `name`, and a server certificate from it for localhost/127.0.0.1 issued at `at` for a day. */
function pki(name: string, at: string | undefined): { ca: string; cert: string; key: string } {
  openssl(
    at,
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${name}-ca.key`,
    "-out",
    `${name}-ca.pem`,
    "-days",
    "3650",
    "-subj",
    `/CN=${name} CA`,
  );
  openssl(
    at,
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:P-256",
    "-nodes",
    "-keyout",
    `${name}.key`,
    "-out",
    `${name}.csr`,
    "-subj",
    "/CN=localhost",
  );
  writeFileSync(join(dir, "san.ext"), "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
  openssl(
    at,
    "x509",
    "-req",
    "-in",
    `${name}.csr`,
    "-CA",
    `${name}-ca.pem`,
    "-CAkey",
    `${name}-ca.key`,
    "-CAcreateserial",
    "-days",
    "1",
    "-extfile",
    "san.ext",
    "-out",
    `${name}.pem`,
  );
  const read = (file: string) => readFileSync(join(dir, file), "utf8");
  return { ca: read(`${name}-ca.pem`), cert: read(`${name}.pem`), key: read(`${name}.key`) };
}

let pinned: ReturnType<typeof pki>;
let foreign: ReturnType<typeof pki>;
const servers: ReturnType<typeof Bun.serve>[] = [];
const received: string[] = [];

/** An HTTPS server with `cert`, recording every request it gets. */
function serve(material: { cert: string; key: string }, hostname = "127.0.0.1"): string {
  const server = Bun.serve({
    port: 0,
    hostname,
    tls: { cert: material.cert, key: material.key },
    fetch: async (req) => {
      received.push(`${req.method} ${new URL(req.url).pathname} ${await req.text()}`);
      return Response.json({ ok: true }, { headers: { date: new Date().toUTCString() } });
    },
  });
  servers.push(server);
  return `https://127.0.0.1:${server.port}`;
}

beforeAll(() => {
  // Hint: certificates from 2020, a day long: to this machine's clock they are long expired, as a
  // correct certificate looks to a device whose clock runs years ahead.
  pinned = pki("pinned", "2020-01-01 00:00:00");
  foreign = pki("foreign", "2020-01-01 00:00:00");
});

afterAll(() => {
  for (const server of servers) server.stop(true);
});

test("a certificate of the pinned CA that the clock calls expired still gets the request through", async () => {
  const url = serve(pinned);
  const transport = nodeHttpTransport({ ca: pinned.ca });
  const answer = await transport({
    method: "POST",
    url: `${url}/v1/provision`,
    headers: { "content-type": "application/json" },
    body: '{"token":"t"}',
  });
  expect(answer.status).toBe(200);
  expect(JSON.parse(answer.body)).toEqual({ ok: true });
  expect(received).toContain('POST /v1/provision {"token":"t"}');
});

test("an expired certificate of another CA is refused, and the request is never sent", async () => {
  received.length = 0;
  const url = serve(foreign);
  const transport = nodeHttpTransport({ ca: pinned.ca });
  await expect(
    transport({
      method: "POST",
      url: `${url}/v1/provision`,
      headers: {},
      body: '{"token":"secret-token"}',
    }),
  ).rejects.toThrow("does not chain to the pinned serverCa");
  expect(received).toEqual([]);
});

test("without a pinned CA there is no such tolerance: the system roots decide, with the clock", async () => {
  received.length = 0;
  const url = serve(pinned);
  const transport = nodeHttpTransport({});
  await expect(transport({ method: "GET", url: `${url}/v1/ca`, headers: {} })).rejects.toThrow();
  expect(received).toEqual([]);
});

test("a certificate of the pinned CA for another host name is refused", async () => {
  received.length = 0;
  // Hint: listening on every interface, so 127.0.0.2 reaches it; its certificate names 127.0.0.1 only.
  const server = serve(pinned, "0.0.0.0");
  const transport = nodeHttpTransport({ ca: pinned.ca });
  const other = server.replace("127.0.0.1", "127.0.0.2");
  await expect(transport({ method: "GET", url: `${other}/v1/ca`, headers: {} })).rejects.toThrow(
    "does not name 127.0.0.2",
  );
  expect(received).toEqual([]);
});
