/** The embedded MQTT broker: aedes over mutual TLS, devices authenticated by their IoTA certificates. */

import { randomUUID } from "node:crypto";
import { createServer, type TLSSocket } from "node:tls";
import type { AddressInfo } from "node:net";
import { Aedes, type AuthenticateError, type Client } from "aedes";
import { DEFAULT_TOPIC_PREFIX } from "../../core/agent-config.ts";
import type { DomainContext } from "../domain/context.ts";
import type { Logger } from "../log.ts";
import type { CertificateAuthority } from "../ca/authority.ts";
import { isWildcardHost, issueServerCertificate, tlsNames } from "../tls/server-certificate.ts";
import { SERVER_CERT_VALIDITY_SECONDS, TLS12_CIPHERS } from "../tls/policy.ts";
import { keepRenewed } from "../tls/renewal.ts";
import {
  checkClientCertificate,
  checkExpiry,
  recheckClient,
  type ClientIdentity,
} from "./client-identity.ts";
import { clientIdProblem } from "./client-id-policy.ts";
import { deviceTopicPolicy } from "./topic-policy.ts";
import { SessionReadiness } from "./session-readiness.ts";
import type { ReadinessChange } from "../store/fleet-store.ts";
import {
  brokerConnectionLimit,
  CONNECT_TIMEOUT_MS,
  guardPacketSize,
  HANDSHAKE_TIMEOUT_MS,
  MAX_RETAINED_PER_DEVICE,
  RetainedQuota,
} from "./broker-limits.ts";
import { DEFAULT_MAX_PACKET_BYTES } from "./packet-size-guard.ts";

/** What {@link startEmbeddedBroker} needs. */
export interface EmbeddedBrokerOptions {
  /** Address to listen on; port 0 lets the OS choose. */
  listen: { host: string; port: number };
  ctx: DomainContext;
  /** The tenant whose devices may connect (their certificates are checked against its CA). */
  tenant: string;
  /** The server CA that certifies the broker, as it certifies the API: devices trust both alike. */
  serverCa: CertificateAuthority;
  log: Logger;
  /** Topic prefix of the device subtrees (default `iota`). */
  topicPrefix?: string;
  /** How often live sessions are checked again for revocation and expiry, in ms (default 5 s). */
  recheckMs?: number;
  /** More names for the broker certificate, e.g. the host name when listening on every interface. */
  extraNames?: string[];
  /** Where devices' readiness goes (sessions and status messages); at start every device is taken as gone. */
  readiness?: (change: ReadinessChange) => void;
  /** The largest MQTT packet a client may send (default 64 KiB). */
  maxPacketBytes?: number;
  /** Connections the broker takes at once (default: the process's file limit less a reserve for the API). */
  maxConnections?: number;
}

/** A running embedded broker. */
export interface EmbeddedBroker {
  /** `mqtts://HOST:PORT` with a host the broker certificate names. */
  url: string;
  port: number;
  /** The server CA, the trust anchor clients verify the broker with. */
  caPem: string;
  /** Disconnects every client and closes the listener. */
  stop(): Promise<void>;
}

/** Default period of the live-session re-check: how long a revoked device may stay connected at most. */
export const DEFAULT_RECHECK_MS = 5000;

/** A CONNACK refusal with an MQTT 3.1.1 return code (2 identifier rejected, 5 not authorized). */
function refusal(client: Client, returnCode: 2 | 5, message: string): AuthenticateError {
  // Hint: aedes cleans up a refused client's state under its id (a clean session's QoS 2 records); under a
  // throwaway id that cleanup cannot touch the session of the device whose id the client asked for.
  client.id = `refused:${randomUUID()}`;
  return Object.assign(new Error(message), { returnCode }) as AuthenticateError;
}

/** Where a client connects from, for the log. */
function peer(client: Client): string {
  const conn = client.conn as Partial<TLSSocket>;
  return `${conn.remoteAddress ?? "?"}:${conn.remotePort ?? "?"}`;
}

/**
 * Starts the broker. Every client must present a certificate of `tenant`'s CA that the service issued to a
 * device and has not revoked (checked in the store at connect, and again while connected within `recheckMs` of a
 * revocation, which moves the tenant's CRL number).
 * A device connects with its own client id, `<group>/<device>`, or an empty one and a clean session (any other is
 * refused with CONNACK 2, see client-id-policy.ts).
 * A device publishes only inside `<prefix>/<group>/<device>/…` (a publish outside closes its connection)
 * and subscribes there and to `<prefix>/<group>/+/status` (other filters get a failure SUBACK).
 * What one client may cost is bounded (broker-limits.ts): 10 s for TLS and for CONNECT, packets of 64 KiB,
 * 16 retained topics per device, and connections up to the file limit less the API's reserve.
 */
export async function startEmbeddedBroker(options: EmbeddedBrokerOptions): Promise<EmbeddedBroker> {
  const { ctx, tenant, log } = options;
  const ca = await ctx.tenants.ca(tenant);
  const extraNames = options.extraNames ?? [];
  const names = tlsNames(options.listen.host, extraNames);
  const issue = () =>
    issueServerCertificate(
      options.serverCa,
      names,
      "broker",
      SERVER_CERT_VALIDITY_SECONDS,
      ctx.now(),
    );
  const serverCert = await issue();
  const prefix = options.topicPrefix ?? DEFAULT_TOPIC_PREFIX;
  const policy = deviceTopicPolicy(prefix);
  const readiness = options.readiness && new SessionReadiness(prefix, options.readiness, ctx.now);
  // Hint: sessions and retained messages of an earlier run are gone with it; devices show online as they reconnect.
  if (readiness) await ctx.store.markAllOffline(tenant, ctx.now());
  // Hint: identities outlive the socket (a weak map) because aedes authorizes the last will after the socket closed.
  const identities = new WeakMap<Client, ClientIdentity>();
  const live = new Set<Client>();
  // Hint: the client id each CONNECT sent; aedes replaces an empty one with a generated id before authenticate.
  const requestedIds = new WeakMap<Client, string>();

  const retained = new RetainedQuota();
  const broker = await Aedes.createBroker({
    connectTimeout: CONNECT_TIMEOUT_MS,
    preConnect(client, packet, callback) {
      requestedIds.set(client, packet.clientId);
      callback(null, true);
    },
    authenticate(client, _username, _password, done) {
      const der = (client.conn as TLSSocket).getPeerCertificate?.()?.raw;
      checkClientCertificate(ctx.store, tenant, der, ctx.now()).then(
        (check) => {
          if (!check.ok) {
            log.info(`mqtt: refused ${peer(client)}: ${check.reason}`);
            return done(refusal(client, 5, "not authorized"), null);
          }
          const { identity } = check.client;
          const idProblem = clientIdProblem(identity, {
            clientId: requestedIds.get(client) ?? client.id,
            clean: client.clean,
          });
          if (idProblem) {
            log.info(
              `mqtt: refused ${peer(client)}: ${identity.group}/${identity.device}: ${idProblem}`,
            );
            return done(refusal(client, 2, "identifier rejected"), null);
          }
          identities.set(client, check.client);
          live.add(client);
          readiness?.opened(client, identity);
          client.conn.once("close", () => {
            live.delete(client);
            readiness?.closed(client, identity);
          });
          log.info(
            `mqtt: ${check.client.identity.group}/${check.client.identity.device} connected (serial ${check.client.serial})`,
          );
          done(null, true);
        },
        (error: unknown) => {
          log.error(
            `mqtt: could not check the certificate of ${peer(client)}: ${(error as Error).message}`,
          );
          done(refusal(client, 5, "not authorized"), null);
        },
      );
    },
    authorizePublish(client, packet, done) {
      if (!client) return done(null);
      const id = identities.get(client);
      const who = id ? `${id.identity.group}/${id.identity.device}` : peer(client);
      if (id && policy.mayPublish(id.identity, packet.topic)) {
        if (!packet.retain || retained.admit(who, packet.topic, packet.payload.length === 0))
          return done(null);
        log.info(
          `mqtt: ${who} may not keep more than ${MAX_RETAINED_PER_DEVICE} retained messages; disconnected`,
        );
        return done(new Error("too many retained messages"));
      }
      log.info(`mqtt: ${who} may not publish on ${JSON.stringify(packet.topic)}; disconnected`);
      done(new Error(`publishing on ${packet.topic} is not allowed`));
    },
    authorizeSubscribe(client, subscription, done) {
      const id = identities.get(client);
      if (id && policy.maySubscribe(id.identity, subscription.topic))
        return done(null, subscription);
      const who = id ? `${id.identity.group}/${id.identity.device}` : peer(client);
      log.info(`mqtt: ${who} may not subscribe to ${JSON.stringify(subscription.topic)}`);
      // Hint: a null subscription is a failure (0x80) in the SUBACK; the connection stays up.
      done(null, null);
    },
  });

  broker.on("publish", (packet, client) => {
    const id = client && identities.get(client);
    if (id && readiness) readiness.published(client, id.identity, packet.topic, packet.payload);
  });

  // Hint: every revocation (revoke, reset, delete) bumps the tenant's CRL number in the same transaction, so
  // sessions are looked up in the store only when that number moved; otherwise only expiry can change.
  let checkedCrlNumber = -1;
  const recheck = async () => {
    const crlNumber = (await ctx.store.getTenant(tenant))?.crlNumber ?? -1;
    const full = crlNumber !== checkedCrlNumber;
    for (const client of [...live]) {
      const id = identities.get(client);
      if (!id) continue;
      const check = full
        ? await recheckClient(ctx.store, id, ctx.now())
        : checkExpiry(id, ctx.now());
      if (check.ok || !live.has(client)) continue;
      log.info(`mqtt: disconnecting ${id.identity.group}/${id.identity.device}: ${check.reason}`);
      live.delete(client);
      client.close();
    }
    checkedCrlNumber = crlNumber;
  };
  // Hint: a renewal in this process ends the sessions held with the certificate it replaced at once; renewals on
  // other replicas reach live sessions at the next store re-check.
  const stopListening = ctx.events?.onRenewed((key, serial) => {
    if (key.tenantId !== tenant) return;
    for (const client of [...live]) {
      const id = identities.get(client);
      if (!id || id.identity.group !== key.group || id.identity.device !== key.name) continue;
      if (id.serial === serial) continue;
      log.info(
        `mqtt: disconnecting ${key.group}/${key.name}: certificate ${id.serial} was replaced by ${serial}`,
      );
      live.delete(client);
      client.close();
    }
  });
  let rechecking: Promise<void> | undefined;
  const timer = setInterval(() => {
    rechecking ??= recheck()
      .catch((error: unknown) =>
        log.error(`mqtt: re-checking sessions failed: ${(error as Error).message}`),
      )
      .finally(() => (rechecking = undefined));
  }, options.recheckMs ?? DEFAULT_RECHECK_MS);
  timer.unref?.();

  const tlsOptions = (cert: { keyPem: string; certPem: string }) => ({
    key: cert.keyPem,
    cert: cert.certPem,
    ca: ca.certPem,
    requestCert: true,
    rejectUnauthorized: true,
    minVersion: "TLSv1.2" as const,
    ciphers: TLS12_CIPHERS,
  });
  const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES;
  const server = createServer(
    { ...tlsOptions(serverCert), handshakeTimeout: HANDSHAKE_TIMEOUT_MS },
    (socket) => {
      guardPacketSize(socket, maxPacketBytes, (announced) =>
        log.info(
          `mqtt: disconnecting ${socket.remoteAddress ?? "?"}: a packet of ${announced} bytes (at most ${maxPacketBytes})`,
        ),
      );
      broker.handle(socket);
    },
  );
  // Hint: the API shares this process's file descriptors; the broker leaves it a reserve whatever its load.
  server.maxConnections = options.maxConnections ?? brokerConnectionLimit();
  // Hint: new handshakes get the new certificate; connected devices keep their sessions.
  const renewal = keepRenewed(
    serverCert,
    issue,
    (next) => server.setSecureContext(tlsOptions(next)),
    log,
    "mqtt broker",
  );
  server.on("tlsClientError", (error, socket) => {
    log.info(`mqtt: TLS refused ${socket.remoteAddress ?? "?"}: ${error.message}`);
    // Hint: a refused or timed-out handshake leaves its socket open unless it is closed here.
    socket.destroy();
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(options.listen.port, options.listen.host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    // Hint: what started above ends here, so a failed start leaves no timer or subscriber behind.
    stopListening?.();
    clearInterval(timer);
    renewal.stop();
    await new Promise<void>((resolve) => broker.close(() => resolve()));
    throw error;
  }
  const port = (server.address() as AddressInfo).port;
  const host = isWildcardHost(options.listen.host)
    ? (extraNames[0] ?? "localhost")
    : options.listen.host;
  return {
    url: `mqtts://${host.includes(":") ? `[${host}]` : host}:${port}`,
    port,
    caPem: options.serverCa.certPem,
    async stop() {
      stopListening?.();
      clearInterval(timer);
      renewal.stop();
      await rechecking;
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
