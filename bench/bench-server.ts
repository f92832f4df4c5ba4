/**
 * iota-server as the provisioning benchmark runs it: the normal composition (same store, CA, routes and
 * request log on stderr), with the per-address issue limit lifted, because one load generator is one address.
 */

import { parseServerOptions } from "../src/iota-server/config.ts";
import { startServer } from "../src/iota-server/server.ts";
import { streamLogger } from "../src/iota-server/log.ts";

const options = parseServerOptions(process.argv.slice(2), process.env);
if (typeof options === "string") throw new Error("bench-server takes the iota-server flags only");
const server = await startServer(
  options,
  streamLogger((line) => process.stderr.write(line)),
  {
    issueRate: { rate: 1e9, burst: 1e9 },
  },
);
process.stdout.write(
  `${JSON.stringify({ url: server.url, adminTokenPath: server.adminTokenPath })}\n`,
);
process.on("SIGTERM", async () => {
  await server.stop();
  process.exit(0);
});
