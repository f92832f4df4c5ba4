/** Addresses for tests: a free TCP port on loopback, and an address of this machine beyond loopback. */

import { createServer } from "node:net";
import { networkInterfaces } from "node:os";

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

/**
 * An IPv4 address of this machine other than loopback, for tests of what iota-server does across a network.
 * Throws when there is none (a machine without a network interface up): such a test cannot run there.
 */
export function networkAddress(): string {
  for (const addresses of Object.values(networkInterfaces()))
    for (const a of addresses ?? []) if (a.family === "IPv4" && !a.internal) return a.address;
  throw new Error(
    "this test needs an IPv4 address other than loopback (a network interface up), and this machine has none",
  );
}
