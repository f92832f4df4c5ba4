/**
 * A replica whose PostgreSQL goes away answers 503 with Retry-After (clients and iotad retry), not 500, and
 * serves again once the database is back. The database is reached through a TCP relay the test cuts.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createServer, connect, type Server, type Socket } from "node:net";
import { freePort } from "./helpers/free-port.ts";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.ts";
import { startServerProcess } from "./helpers/server-process.ts";

let pg: TestPostgres;
beforeAll(async () => {
  pg = await startTestPostgres();
});
afterAll(async () => {
  await pg?.stop();
});

/** A relay from a local port to PostgreSQL that can be cut (every connection closed) and opened again. */
async function relay(target: URL, port: number) {
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  const open = async () => {
    server = createServer((client) => {
      const upstream = connect(Number(target.port || 5432), target.hostname);
      for (const s of [client, upstream]) {
        sockets.add(s);
        s.on("error", () => {});
        s.on("close", () => sockets.delete(s));
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((done) => server?.listen(port, "127.0.0.1", done));
  };
  const cut = async () => {
    // Hint: close() waits for the open connections, so they are destroyed first.
    const closed = new Promise<void>((done) => (server ? server.close(() => done()) : done()));
    for (const s of sockets) s.destroy();
    await closed;
  };
  await open();
  return { open, cut };
}

test("PostgreSQL gone: 503 with Retry-After and the reason logged without the password; back: 200 again", async () => {
  const target = new URL(pg.url);
  const port = await freePort();
  const link = await relay(target, port);
  const via = new URL(pg.url);
  via.hostname = "127.0.0.1";
  via.port = String(port);
  const server = await startServerProcess({ tls: true, args: ["--db", via.toString()] });
  try {
    await server.admin("POST", "/v1/groups", { name: "lamps" }, 201);
    await link.cut();
    const down = await server.fetch("/v1/groups", {
      headers: { authorization: `Bearer ${server.token()}` },
    });
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("5");
    expect(((await down.json()) as { detail: string }).detail).toBe(
      "The database is unavailable; retry later",
    );
    expect(server.output()).toMatch(/GET \/v1\/groups failed: the database is unavailable \(\w+\)/);
    if (target.password) expect(server.output()).not.toContain(target.password);
    await link.open();
    let back = 0;
    for (let i = 0; i < 50 && back !== 200; i++) {
      back = (
        await server.fetch("/v1/groups", { headers: { authorization: `Bearer ${server.token()}` } })
      ).status;
      if (back !== 200) await Bun.sleep(100);
    }
    expect(back).toBe(200);
  } finally {
    await link.cut();
    await server.stop();
  }
}, 120_000);
