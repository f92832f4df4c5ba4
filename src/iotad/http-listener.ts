/** Serves a fetch-style handler (hono's `app.fetch`) on node:http, which Bun and Node.js 18 both provide. */

import * as http from "node:http";
import type { AddressInfo } from "node:net";

/** A listening server. */
export interface Listener {
  /** `http://HOST:PORT` as bound (the real port when 0 was asked). */
  url: string;
  close(): Promise<void>;
}

/** Starts listening on `host:port` and answers every request with `handler`. */
export function listenHttp(
  handler: (request: Request) => Response | Promise<Response>,
  host: string,
  port: number,
): Promise<Listener> {
  const server = http.createServer((req, res) => {
    void (async () => {
      try {
        const url = `http://${req.headers.host ?? `${host}:${port}`}${req.url ?? "/"}`;
        const headers = new Headers();
        for (const [name, value] of Object.entries(req.headers)) {
          if (typeof value === "string") headers.set(name, value);
        }
        // Hint: the status endpoint only serves GETs; a body is never read, so none is forwarded.
        const response = await handler(new Request(url, { method: req.method ?? "GET", headers }));
        const out: Record<string, string> = {};
        response.headers.forEach((value, name) => {
          out[name] = value;
        });
        res.writeHead(response.status, out);
        res.end(req.method === "HEAD" ? undefined : Buffer.from(await response.arrayBuffer()));
      } catch {
        if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
        res.end("internal error\n");
      }
    })();
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      const address = server.address() as AddressInfo;
      const shown =
        address.family === "IPv6" || address.address.includes(":")
          ? `[${address.address}]`
          : address.address;
      resolve({
        url: `http://${shown}:${address.port}`,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections?.();
          }),
      });
    });
  });
}
