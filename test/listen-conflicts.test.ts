/**
 * A port that is taken stops iota-server's start with exit 3 naming the address, for each of its listeners.
 * The HTTPS listener binds with SO_REUSEPORT (to swap its certificate), which Linux would otherwise let a second
 * iota-server of the same user share: both would run and split the connections between two CAs.
 */

import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BUN, ROOT, startServerProcess } from "./helpers/server-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iota-listen-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** Runs iota-server to its end on a data folder of its own; it must not start. */
function runServer(name: string, ...args: string[]) {
  return spawnSync(
    BUN,
    [join(ROOT, "src/iota-server/main.ts"), "--data", join(tmp, name), ...args],
    {
      encoding: "utf8",
      timeout: 30_000,
    },
  );
}

/** A loopback port held by a plain TCP listener (another program). */
async function holdPort(): Promise<{ port: number; server: Server }> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  return { port: (server.address() as { port: number }).port, server };
}

const IN_USE = "the port is in use by another program (EADDRINUSE)";

test("a second iota-server on the port of a running one exits 3 instead of sharing it, over HTTPS and plain HTTP", async () => {
  const first = await startServerProcess({ tls: true });
  try {
    const port = Number(new URL(first.url).port);
    const https = runServer("second", "--listen", `127.0.0.1:${port}`);
    expect(https.stderr).toContain(`cannot listen on 127.0.0.1:${port}: ${IN_USE}`);
    expect(https.status).toBe(3);
    const wildcard = runServer("third", "--listen", `0.0.0.0:${port}`);
    expect(wildcard.stderr).toContain(`cannot listen on 0.0.0.0:${port}: ${IN_USE}`);
    expect(wildcard.status).toBe(3);
    const plain = runServer("fourth", "--plain-http", "--listen", `127.0.0.1:${port}`);
    expect(plain.stderr).toContain(`cannot listen on 127.0.0.1:${port}: ${IN_USE}`);
    expect(plain.status).toBe(3);
    // The running service still answers every connection with its own CA.
    const served = new Set<string>();
    for (let i = 0; i < 8; i++) {
      const answer = await first.fetch("/v1/server-ca");
      expect(answer.status).toBe(200);
      served.add(await answer.text());
    }
    expect([...served]).toEqual([first.serverCaPem]);
  } finally {
    await first.stop();
  }
}, 90_000);

test("a taken MQTT or metrics port exits 3 naming its flag", async () => {
  const held = await holdPort();
  try {
    for (const flag of ["--mqtt-listen", "--metrics-listen"]) {
      const r = runServer(flag.slice(2), "--listen", "127.0.0.1:0", flag, `127.0.0.1:${held.port}`);
      expect(r.stderr).toContain(`cannot listen on 127.0.0.1:${held.port} (${flag}): ${IN_USE}`);
      expect(r.status).toBe(3);
    }
  } finally {
    held.server.close();
  }
}, 90_000);
