/** Test support: a TCP relay in front of PostgreSQL that a test cuts (every connection closed) and opens again. */

import { connect, createServer, type Server, type Socket } from "node:net";
import { freePort } from "./free-port.ts";

/** A relay to a database: `url` reaches the database through it while it is open. */
export interface PgRelay {
  /** The database URL with the relay's address in place of the server's. */
  url: string;
  /** Accepts connections again. */
  open(): Promise<void>;
  /** Closes every connection and stops accepting: to its clients, the database is down. */
  cut(): Promise<void>;
}

/** Starts a relay on a free local port to the server `databaseUrl` names. */
export async function startPgRelay(databaseUrl: string): Promise<PgRelay> {
  const target = new URL(databaseUrl);
  const port = await freePort();
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
    const closed = new Promise<void>((done) =>
      server?.listening ? server.close(() => done()) : done(),
    );
    for (const s of sockets) s.destroy();
    await closed;
  };
  await open();
  const via = new URL(databaseUrl);
  via.hostname = "127.0.0.1";
  via.port = String(port);
  return { url: via.toString(), open, cut };
}
