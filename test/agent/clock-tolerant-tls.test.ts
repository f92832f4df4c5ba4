/**
 * The agent's request for a device whose clock is far off: a server certificate the local clock disagrees
 * with is accepted only when it chains to the pinned serverCa and names the host; nothing is sent before.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nodeHttpTransport } from "../../src/iotad/http-transport.ts";
import { type IssuedPair, issuePair } from "../helpers/throwaway-tls.ts";

const dir = mkdtempSync(join(tmpdir(), "iota-clock-tls-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let pinned: IssuedPair;
let foreign: IssuedPair;
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
  pinned = issuePair(dir, "pinned", "2020-01-01 00:00:00");
  foreign = issuePair(dir, "foreign", "2020-01-01 00:00:00");
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
