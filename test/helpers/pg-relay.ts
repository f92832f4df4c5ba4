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
  /**
   * Keeps every connection open but passes nothing more either way, and connects new ones nowhere: a database
   * cut off by the network, with no reset and no refusal. `open()` after `cut()` ends it.
   */
  freeze(): void;
  /**
   * Keeps what either side sends until `release()`: a network that stalls and then recovers, so the database
   * hears late what was sent meanwhile, and the client hears its answers late.
   */
  hold(): void;
  /** Passes on, in order, what `hold()` kept, and everything after it. */
  release(): void;
}

/** Starts a relay on a free port of `host` (default loopback) to the server `databaseUrl` names. */
export async function startPgRelay(databaseUrl: string, host = "127.0.0.1"): Promise<PgRelay> {
  const target = new URL(databaseUrl);
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: Server | undefined;
  let frozen = false;
  let held: Array<() => void> | undefined;
  /** Writes `data` to `to` now, or once released while held; drops it while frozen. */
  const pass = (to: Socket, data: string | Uint8Array) => {
    if (frozen) return;
    if (held) held.push(() => to.write(data));
    else to.write(data);
  };
  const open = async () => {
    frozen = false;
    server = createServer((client) => {
      sockets.add(client);
      client.on("error", () => {});
      client.on("close", () => sockets.delete(client));
      if (frozen) return;
      const upstream = connect(Number(target.port || 5432), target.hostname);
      sockets.add(upstream);
      upstream.on("error", () => {});
      upstream.on("close", () => sockets.delete(upstream));
      // Hint: not pipe(), so a frozen relay can drop what either side sends.
      client.on("data", (data) => pass(upstream, data));
      upstream.on("data", (data) => pass(client, data));
      client.on("end", () => upstream.end());
      upstream.on("end", () => client.end());
    });
    await new Promise<void>((done) => server?.listen(port, host, done));
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
  via.hostname = host;
  via.port = String(port);
  const freeze = () => {
    frozen = true;
  };
  const hold = () => {
    held ??= [];
  };
  const release = () => {
    const kept = held ?? [];
    held = undefined;
    for (const write of kept) write();
  };
  return { url: via.toString(), open, cut, freeze, hold, release };
}
