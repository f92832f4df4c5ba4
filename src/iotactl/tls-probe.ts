/**
 * Whether a server named with `http://` speaks TLS at that address. iota-server serves HTTPS unless started with
 * `--plain-http` and answers a clear-text request by closing the connection, which reads like a server restarting;
 * the probe tells the two apart, so a wrong scheme is named at once instead of sent again for a minute.
 */

import { isIP } from "node:net";
import { connect } from "node:tls";

/** How long the probe waits for the TLS handshake. */
const PROBE_MS = 2_000;

/**
 * True when a TLS handshake with `url`'s host and port completes. Nothing is sent over it, so its certificate is not
 * checked: the probe only learns that the address speaks TLS, and iotactl then stops with an error.
 */
export function speaksTls(url: string, timeoutMs = PROBE_MS): Promise<boolean> {
  const { hostname, port } = new URL(url);
  const host = hostname.replace(/^\[|\]$/g, "");
  return new Promise((resolve) => {
    const socket = connect({
      host,
      port: Number(port || 80),
      rejectUnauthorized: false,
      ...(isIP(host) === 0 ? { servername: host } : {}),
    });
    const done = (tls: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(tls);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once("secureConnect", () => done(true));
    socket.once("error", () => done(false));
  });
}
