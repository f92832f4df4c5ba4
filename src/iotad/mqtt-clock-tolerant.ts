/**
 * An mqtts:// connection for a device whose clock is far off (a dead RTC battery: 1970, or a year ahead), to a
 * broker whose certificate chains to the pinned CA: TLS would refuse the broker's certificate as not yet valid
 * or expired by the local clock, so the device could never announce itself. As for the service
 * (clock-tolerant-tls.ts), everything else is verified (the chain up to the pinned CA, the host name) before a
 * single MQTT byte is written; the broker checks the device's certificate with its own, right clock.
 */

import { Duplex } from "node:stream";
import { isIP } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { type IClientOptions, MqttClient } from "mqtt";
import { problemIgnoringClock } from "./clock-tolerant-tls.ts";

/**
 * Connects like mqtt.js `connect(url, options)` for an `mqtts://` URL, verifying the broker's certificate
 * against `options.ca` without its validity window (see the module comment).
 */
export function connectIgnoringClock(
  url: string,
  options: IClientOptions & { ca: string },
): MqttClient {
  const target = new URL(url);
  const host = target.hostname.replace(/^\[|\]$/g, "");
  const port = Number(target.port || 8883);
  return new MqttClient(() => verifiedStream(host, port, options), {
    ...options,
    protocol: "mqtts",
    host,
    port,
  });
}

/** A TLS stream that holds back every write until the broker's certificate passed the check. */
function verifiedStream(
  host: string,
  port: number,
  options: IClientOptions & { ca: string },
): Duplex {
  const socket = tlsConnect({
    host,
    port,
    ...(isIP(host) ? {} : { servername: host }),
    ca: options.ca,
    ...(options.cert !== undefined ? { cert: options.cert as string } : {}),
    ...(options.key !== undefined ? { key: options.key as string } : {}),
    // Hint: checked by hand on secureConnect, before the held-back CONNECT is written.
    rejectUnauthorized: false,
  });
  let verified = false;
  const held: [Buffer, BufferEncoding, (error?: Error | null) => void][] = [];
  const stream = new Duplex({
    write(chunk: Buffer, encoding, done) {
      if (verified) socket.write(chunk, encoding, done);
      else held.push([chunk, encoding, done]);
    },
    read() {
      socket.resume();
    },
    final(done) {
      socket.end(() => done());
    },
    destroy(error, done) {
      socket.destroy();
      done(error);
    },
  });
  socket.on("data", (data: Buffer) => {
    if (!stream.push(data)) socket.pause();
  });
  socket.once("end", () => stream.push(null));
  socket.once("error", (error) => stream.destroy(error));
  socket.once("close", () => stream.destroy());
  socket.once("secureConnect", () => {
    const problem = problemIgnoringClock(socket, options.ca, host, "broker CA");
    if (problem !== undefined) {
      const error = Object.assign(new Error(`the broker ${host}:${port}: ${problem}`), {
        code: "BROKER_CERT_UNTRUSTED",
      });
      stream.destroy(error);
      return;
    }
    verified = true;
    for (const [chunk, encoding, done] of held.splice(0)) socket.write(chunk, encoding, done);
  });
  return stream;
}
