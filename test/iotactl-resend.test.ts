/**
 * The compiled iotactl sends again what a transient failure lost, against a real iota-server: a device creation
 * whose answer a connection reset swallowed (the server had made the device) ends in "Created", not "exists", and
 * `add device` waits out a PostgreSQL outage (503) instead of stopping a factory's script at the first one.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect, createServer, type Server, type Socket } from "node:net";
import { rmSync } from "node:fs";
import { join } from "node:path";
import type { DeviceView, Page } from "../src/core/wire.ts";
import { apiGet, buildIotactl, run, tempDir } from "./iotactl-support.ts";
import { startServerProcess, type ServerProcess } from "./helpers/server-process.ts";
import { startPgRelay } from "./helpers/pg-relay.ts";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.ts";
import { freePort } from "./helpers/free-port.ts";

let dir: string;
let iotactl: string;
let pg: TestPostgres;

beforeAll(async () => {
  dir = tempDir("iota-resend-");
  iotactl = join(await buildIotactl(dir), "iotactl");
  pg = await startTestPostgres();
}, 120_000);

afterAll(async () => {
  await pg?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const envFor = (server: ServerProcess, url = server.url) => ({
  IOTA_SERVER: url,
  IOTA_TOKEN: server.token(),
  NO_COLOR: "1",
});

async function devicesOf(server: ServerProcess, group: string): Promise<string[]> {
  const page = await apiGet<Page<DeviceView>>(server, `/v1/groups/${group}/devices`);
  return page.items.map((d) => d.name);
}

/**
 * A TCP relay to `target` (plain HTTP) that, once, lets a 201 answer reach it and then resets the client's
 * connection instead of passing the answer on: the request was carried out, its answer lost.
 */
async function answerLosingRelay(
  target: URL,
): Promise<{ url: string; lost: () => number; close(): void }> {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let lost = 0;
  const server: Server = createServer((client) => {
    const upstream = connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => sockets.delete(s));
    }
    client.on("data", (data) => upstream.write(data));
    upstream.on("data", (data) => {
      if (lost === 0 && data.toString("latin1").startsWith("HTTP/1.1 201")) {
        lost += 1;
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      client.write(data);
    });
    client.on("end", () => upstream.end());
    upstream.on("end", () => client.end());
  });
  await new Promise<void>((done) => server.listen(port, "127.0.0.1", done));
  return {
    url: `http://127.0.0.1:${port}`,
    lost: () => lost,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

test("add device whose answer was lost to a reset is sent again with its key: exit 0, one device", async () => {
  const server = await startServerProcess({ tls: false });
  const relay = await answerLosingRelay(new URL(server.url));
  try {
    await server.admin("POST", "/v1/groups", { name: "lamps" }, 201);
    const result = await run([iotactl, "add", "device", "-g", "lamps", "lamp-1"], {
      env: envFor(server, relay.url),
      cwd: dir,
    });
    expect(relay.lost()).toBe(1);
    expect(result.stderr).toContain(
      "POST /v1/groups/lamps/devices: the connection was closed before an answer came; sending it again in 1 s (attempt 2)",
    );
    expect(result.stderr).toContain("Created device lamp-1 in group lamps.");
    expect(result.code).toBe(0);
    expect(await devicesOf(server, "lamps")).toEqual(["lamp-1"]);
    // A second creation of the name is a new command with a new key: still "exists" (exit 4), as documented.
    const again = await run([iotactl, "add", "device", "-g", "lamps", "lamp-1"], {
      env: envFor(server, relay.url),
      cwd: dir,
    });
    expect(again.code).toBe(4);
    expect(again.stderr).toContain('Device "lamp-1" already exists in group "lamps"');
  } finally {
    relay.close();
    await server.stop();
  }
}, 60_000);

test("add device waits out a PostgreSQL outage, saying why, and creates the device once it is back", async () => {
  const link = await startPgRelay(await pg.createDatabase());
  const server = await startServerProcess({ tls: false, args: ["--db", link.url] });
  try {
    await server.admin("POST", "/v1/groups", { name: "lamps" }, 201);
    await link.cut();
    const adding = run([iotactl, "add", "device", "-g", "lamps", "lamp-2"], {
      env: envFor(server),
      cwd: dir,
    });
    // The database comes back only once the service has answered iotactl's first attempt with a 503.
    const deadline = Date.now() + 30_000;
    while (!/POST \/v1\/groups\/lamps\/devices 503/.test(server.output())) {
      if (Date.now() > deadline)
        throw new Error(`no 503 for the first attempt:\n${server.output()}`);
      await Bun.sleep(50);
    }
    await link.open();
    const result = await adding;
    expect(result.stderr).toContain(
      "POST /v1/groups/lamps/devices: the server is unavailable for now (503); sending it again in 5 s (attempt 2)",
    );
    expect(result.stderr).toContain("Created device lamp-2 in group lamps.");
    expect(result.code).toBe(0);
    expect(await devicesOf(server, "lamps")).toEqual(["lamp-2"]);
  } finally {
    await link.cut();
    await server.stop();
  }
}, 90_000);

test("a refused connection is not waited for: exit 6 at once, naming the server", async () => {
  const port = await freePort();
  const result = await run([iotactl, "add", "device", "-g", "lamps", "lamp-3"], {
    env: { IOTA_SERVER: `http://127.0.0.1:${port}`, IOTA_TOKEN: "t".repeat(43), NO_COLOR: "1" },
    cwd: dir,
  });
  expect(result.code).toBe(6);
  expect(result.stderr).toContain(`cannot reach the IoTA server at http://127.0.0.1:${port}`);
  expect(result.stderr).not.toContain("sending it again");
});
