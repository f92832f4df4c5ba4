/** A TCP port on loopback for programs that take a fixed address and cannot listen on port 0 and report it. */

import { createServer } from "node:net";

/** A TCP port on 127.0.0.1 the OS picked and had free a moment ago. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
