/** Test support: a small MQTT broker over mutual TLS (aedes + node:tls), standing in for a production broker. */

import * as tls from "node:tls";
import type { AddressInfo } from "node:net";
import { Aedes } from "aedes";
import { crypto, x509 } from "../../src/core/x509.ts";
import { EC_P256, ECDSA_SHA256, exportPrivateKeyPem } from "../../src/core/csr.ts";

/** A PEM certificate and key. */
export interface TestCert {
  cert: string;
  key: string;
}

/** A running test broker. */
export interface TestBroker {
  url: string;
  port: number;
  /** The CA of the broker's server certificate (what devices put in `mqtt.ca`). */
  serverCa: string;
  /** A client certificate from the broker's own CA, for test subscribers. */
  subscriber: TestCert;
  /** Stops and starts again on the same port with an empty broker (no retained messages). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

async function makeCert(
  subject: string,
  issuer: { name: string; keys: CryptoKeyPair } | undefined,
  ca: boolean,
  ip?: string,
) {
  const keys = (await crypto.subtle.generateKey(EC_P256, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const extensions: x509.Extension[] = [new x509.BasicConstraintsExtension(ca, undefined, true)];
  if (ip) extensions.push(new x509.SubjectAlternativeNameExtension([{ type: "ip", value: ip }]));
  if (!ca)
    extensions.push(
      new x509.ExtendedKeyUsageExtension([
        x509.ExtendedKeyUsage.serverAuth,
        x509.ExtendedKeyUsage.clientAuth,
      ]),
    );
  else
    extensions.push(
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    );
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: Date.now().toString(16) + Math.floor(Math.random() * 1e6).toString(16),
    subject,
    issuer: issuer?.name ?? subject,
    notBefore: new Date(Date.now() - 3600_000),
    notAfter: new Date(Date.now() + 86400_000),
    signingAlgorithm: ECDSA_SHA256,
    publicKey: keys.publicKey,
    signingKey: issuer?.keys.privateKey ?? keys.privateKey,
    extensions,
  });
  return {
    name: subject,
    keys,
    cert: cert.toString("pem"),
    key: await exportPrivateKeyPem(keys.privateKey),
  };
}

/** Starts a broker on 127.0.0.1 that accepts clients with certificates from `clientCa` (the tenant CA) or its own CA. */
export async function startTestBroker(clientCa: string): Promise<TestBroker> {
  const ca = await makeCert("CN=iotad test broker CA", undefined, true);
  const server = await makeCert("CN=127.0.0.1", ca, false, "127.0.0.1");
  const subscriber = await makeCert("CN=test subscriber", ca, false);
  let port = 0;
  let running: { broker: Aedes; listener: tls.Server; sockets: Set<tls.TLSSocket> } | undefined;

  const start = async () => {
    const broker = await Aedes.createBroker();
    const sockets = new Set<tls.TLSSocket>();
    const listener = tls.createServer(
      {
        key: server.key,
        cert: server.cert,
        ca: [clientCa, ca.cert],
        requestCert: true,
        rejectUnauthorized: true,
      },
      (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
        broker.handle(socket);
      },
    );
    listener.on("tlsClientError", () => {});
    await new Promise<void>((resolve) => listener.listen(port, "127.0.0.1", resolve));
    port = (listener.address() as AddressInfo).port;
    running = { broker, listener, sockets };
  };
  const stop = async () => {
    const current = running;
    running = undefined;
    if (!current) return;
    // Hint: a crashed broker drops its connections abruptly; clients must notice and reconnect.
    for (const socket of current.sockets) socket.destroy();
    await new Promise<void>((resolve) => current.broker.close(() => resolve()));
    await new Promise<void>((resolve) => current.listener.close(() => resolve()));
  };
  await start();
  return {
    url: `mqtts://127.0.0.1:${port}`,
    port,
    serverCa: ca.cert,
    subscriber: { cert: subscriber.cert, key: subscriber.key },
    restart: async () => {
      await stop();
      await start();
    },
    stop,
  };
}
