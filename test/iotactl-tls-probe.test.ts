/** The probe that tells a TLS listener named with http:// from a server that closed unanswered: real listeners. */

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer as createTcpServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createTlsServer } from "node:tls";
import { issuePair } from "./helpers/throwaway-tls.ts";
import { speaksTls } from "../src/iotactl/tls-probe.ts";

const dir = mkdtempSync(join(tmpdir(), "iotactl-tls-probe-"));
const servers: Server[] = [];
afterAll(() => {
  for (const server of servers) server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Starts `server` on a free loopback port and returns its http:// URL. */
async function listening(server: Server): Promise<string> {
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return `http://127.0.0.1:${address.port}`;
}

test("a TLS listener (an untrusted certificate too) speaks TLS; a clear-text one, a silent one and a closed port do not", async () => {
  const pair = issuePair(dir, "probe");
  const tls = await listening(createTlsServer({ key: pair.key, cert: pair.cert }));
  expect(await speaksTls(tls)).toBe(true);
  expect(await speaksTls(tls.replace("127.0.0.1", "localhost"))).toBe(true);

  const http = await listening(
    createTcpServer((socket) => {
      socket.once("data", () =>
        socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\n\r\n"),
      );
    }),
  );
  expect(await speaksTls(http)).toBe(false);

  const silent = await listening(createTcpServer(() => {}));
  expect(await speaksTls(silent, 300)).toBe(false);

  const gone = await listening(createTcpServer());
  const goneServer = servers.pop();
  await new Promise((resolve) => goneServer?.close(resolve));
  expect(await speaksTls(gone)).toBe(false);
});
