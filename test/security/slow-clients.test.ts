/**
 * Slow and idle clients never starve the others: thousands of idle sockets and a body that trickles in
 * leave the service answering; idle sockets are closed after the idle timeout; a body cut off halfway is
 * the client's failure (400 in the access log), never a server error.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect as tcpConnect, type Socket } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

let server: ServerProcess;
let port = 0;

beforeAll(async () => {
  server = await startServerProcess({ tls: true });
  port = Number(new URL(server.url).port);
});

afterAll(async () => {
  await server?.stop();
});

/** A TLS connection that sent the headers of a POST with `length` bytes of body and `sent` of them. */
async function partialPost(path: string, length: number, sent: string) {
  const socket = tlsConnect({
    host: "127.0.0.1",
    port,
    ca: server.serverCaPem,
    servername: "localhost",
  });
  await new Promise<void>((done, fail) => {
    socket.once("secureConnect", () => done());
    socket.once("error", fail);
  });
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n${sent}`,
  );
  return socket;
}

test("2,000 idle sockets and a trickling body do not stop other requests; the idle sockets are closed after the timeout", async () => {
  const idle: Socket[] = [];
  let closed = 0;
  const track = (socket: Socket) => {
    socket.on("error", () => {});
    socket.on("data", () => {});
    socket.on("close", () => closed++);
    idle.push(socket);
    return socket;
  };
  // Hint: half never start TLS; the other half make one keep-alive request, read the answer, then say nothing.
  for (let i = 0; i < 1000; i++) track(tcpConnect({ host: "127.0.0.1", port }));
  const kept = Array.from({ length: 1000 }, () =>
    track(tlsConnect({ host: "127.0.0.1", port, ca: server.serverCaPem, servername: "localhost" })),
  );
  await Promise.all(
    kept.map(
      (socket) =>
        new Promise<void>((done) => {
          socket.once("secureConnect", () =>
            socket.write(
              "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n",
            ),
          );
          socket.once("data", () => done());
          // Hint: on a loaded machine a handshake can outlast the server's deadline; that socket is closed, not hung.
          socket.once("close", () => done());
        }),
    ),
  );
  const slow = await partialPost("/v1/provision", 4000, "{");
  const trickle = setInterval(() => slow.write(" "), 500);
  try {
    for (let i = 0; i < 5; i++) {
      const res = await server.fetch("/v1/ca");
      expect(res.status).toBe(200);
      expect(await res.text()).toContain("BEGIN CERTIFICATE");
    }
    const deadline = Date.now() + 30_000;
    while (closed < idle.length && Date.now() < deadline) await Bun.sleep(250);
    expect(closed).toBe(idle.length);
  } finally {
    clearInterval(trickle);
    slow.destroy();
    for (const socket of idle) socket.destroy();
  }
}, 60_000);

test("a body cut off halfway is logged as the client's 400, never as a server error", async () => {
  const socket = await partialPost("/v1/provision", 600, '{"group":"g","device":"d","csr":"');
  await Bun.sleep(200);
  socket.destroy();
  const deadline = Date.now() + 10_000;
  while (!/POST \/v1\/provision 4\d\d/.test(server.output()) && Date.now() < deadline)
    await Bun.sleep(100);
  expect(server.output()).toMatch(/POST \/v1\/provision 400/);
  expect(server.output()).not.toMatch(/ error /);
  expect(server.output()).not.toMatch(/ 500 /);
}, 30_000);
