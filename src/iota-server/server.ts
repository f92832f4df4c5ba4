/** Composes a running iota-server: data folder, master key, store, default tenant, TLS, HTTP listener, broker. */

import { existsSync } from "node:fs";
import { hostname } from "node:os";
import { SealedUnderAnotherKey, Sealer } from "./ca/sealer.ts";
import type { CertificateAuthority } from "./ca/authority.ts";
import { openStore } from "./store/sql-store.ts";
import { durableStore, sqliteFileOf } from "./store/group-commit.ts";
import type { Store } from "./store/store.ts";
import { Tenants, DEFAULT_TENANT } from "./domain/tenants.ts";
import type { DomainContext } from "./domain/context.ts";
import { createHttp, DEFAULT_APP_OPTIONS, type AppOptions } from "./http/app.ts";
import { listenProblem, startListener, type ListenerTls } from "./http/listener.ts";
import type { Logger } from "./log.ts";
import {
  adminTokenPath,
  ensureDataDir,
  loadMasterKey,
  tightenSecretFiles,
  writeSecretFile,
} from "./data-dir.ts";
import { checkDatabaseFiles, refuseLostDatabase } from "./store/sqlite-files.ts";
import type { ServerConfig } from "./config.ts";
import { cannotStart } from "./exit.ts";
import { startEmbeddedBroker, type EmbeddedBroker } from "./mqtt/embedded-broker.ts";
import { DeviceEvents } from "./domain/device-events.ts";
import { loadServerCa, serverCaPath, sha256Fingerprint } from "./tls/server-ca.ts";
import {
  isWildcardHost,
  issueServerCertificate,
  tlsNames,
  type ServerCertificate,
} from "./tls/server-certificate.ts";
import { readOperatorCertificate } from "./tls/operator-certificate.ts";
import { keepRenewed, type Renewal } from "./tls/renewal.ts";
import { SERVER_CERT_VALIDITY_SECONDS } from "./tls/policy.ts";
import { startFleetServices, type FleetServices } from "./fleet-services.ts";
import { lockServer } from "./server-lock.ts";
import { settleWithin } from "../core/deadline.ts";

/** How often each replica reads its tenants' current CRL, which it keeps to serve through a database outage. */
const CRL_REFRESH_MS = 5_000;

/** A started server. */
export interface RunningServer {
  /** Base URL of the API, e.g. `https://127.0.0.1:8440`. */
  url: string;
  /** Path of the admin token file (written on first start). */
  adminTokenPath: string;
  /** The admin token when this start created the default tenant; otherwise undefined. */
  newAdminToken: string | undefined;
  /** The server CA (PEM) clients pin, written to `DATA/server-ca.pem`. */
  serverCaPem: string;
  serverCaPath: string;
  /** SHA-256 fingerprint of the server CA, as openssl prints it. */
  serverCaFingerprint: string;
  /** The embedded MQTT broker, when `--mqtt-listen` asked for one. */
  broker: EmbeddedBroker | undefined;
  /** Readiness recording, the `--mqtt-watch` watch and the `--metrics-listen` listener. */
  fleet: FleetServices;
  context: DomainContext;
  /** SIGHUP: reads the operator's `--tls-cert`/`--tls-key` again and serves them (no-op otherwise). */
  reloadTls(): Promise<void>;
  stop(): Promise<void>;
}

/** What a caller may change besides the options: limits, the clock, certificate lifetimes (tests). */
export interface ServerExtras {
  app?: Partial<AppOptions>;
  /** Epoch ms; the real clock unless a test injects one. */
  now?: () => number;
  /** Lifetime of the service's own TLS certificates. */
  serverCertValiditySeconds?: number;
}

/**
 * Opens everything `options` names and starts listening, holding the data folder's lock (exit 3 while another
 * server holds it) until `stop`.
 */
export async function startServer(
  options: ServerConfig,
  log: Logger,
  extras: ServerExtras = {},
): Promise<RunningServer> {
  ensureDataDir(options.data);
  const lock = lockServer(options, (extras.now ?? Date.now)(), log);
  let server: RunningServer;
  try {
    server = await startLocked(options, log, extras);
  } catch (error) {
    lock.release();
    throw error;
  }
  const stop = server.stop;
  server.stop = async () => {
    try {
      await stop();
    } finally {
      lock.release();
    }
  };
  return server;
}

async function startLocked(
  options: ServerConfig,
  log: Logger,
  extras: ServerExtras,
): Promise<RunningServer> {
  const now = extras.now ?? Date.now;
  const file = sqliteFileOf(options.db);
  if (file !== undefined) checkDatabaseFiles(options.data, file);
  for (const changed of tightenSecretFiles(options.data, file))
    log.info(`${changed}: others could read it; set to 0600`);
  const store: Store = durableStore(await openStore(options.db), options.db, (problem) =>
    log.error(problem),
  );
  let sealer: Sealer;
  let serverCa: CertificateAuthority;
  try {
    // Hint: a database that holds sealed keys needs the key it was created with; a new one is made only for an empty one.
    const holdsKeys =
      (await store.getServerCa()) !== undefined ||
      (await store.getTenant(DEFAULT_TENANT)) !== undefined;
    if (!holdsKeys && file !== undefined) refuseLostDatabase(options.data, file);
    const master = loadMasterKey(options.data, options.masterKey, !holdsKeys);
    sealer = new Sealer(master.key);
    serverCa = await openServerCa(store, sealer, master.source, options.data, now());
  } catch (error) {
    await store.close();
    throw error;
  }
  const context: DomainContext = {
    store,
    sealer,
    tenants: new Tenants(store, sealer),
    now,
    log,
    events: new DeviceEvents(),
  };
  const tokenPath = adminTokenPath(options.data);
  let newAdminToken: string | undefined;
  if (!(await store.getTenant(DEFAULT_TENANT))) {
    const created = await context.tenants.create(DEFAULT_TENANT, now());
    if (created) {
      newAdminToken = created.adminToken;
      writeSecretFile(tokenPath, `${created.adminToken}\n`);
    }
  }
  if (!newAdminToken && !existsSync(tokenPath)) {
    log.info(
      `the default tenant exists but ${tokenPath} does not: it was written where the tenant was created (another replica, or the folder a restored database came from): copy it from there, or \`iota-server rotate-admin-token --data ${options.data}\` writes a new one here and ends the old one`,
    );
  }
  const validity = extras.serverCertValiditySeconds ?? SERVER_CERT_VALIDITY_SECONDS;
  const machineName = hostname();
  const tls = await startTls(options, serverCa, validity, machineName, log, now);

  const http = createHttp(context, log, {
    ...DEFAULT_APP_OPTIONS,
    issueRate: options.issueRate,
    ...(options.trustProxy ? { trustedProxies: options.trustProxy } : {}),
    serverCaPem: tls.rootPem,
    ...(options.metricsGroups ? { metricsGroups: options.metricsGroups } : {}),
    ...extras.app,
  });
  let listener: ReturnType<typeof startListener>;
  try {
    listener = startListener({
      host: options.listen.host,
      port: options.listen.port,
      tls: tls.initial,
      routes: http.routes as never,
      fetch: http.app.fetch,
      maxRequestBodySize: http.maxRequestBodySize,
      idleTimeout: http.idleTimeoutSeconds,
    });
  } catch (error) {
    await store.close();
    throw cannotStart(
      `cannot listen on ${options.listen.host}:${options.listen.port}: ${listenProblem(error)}`,
    );
  }
  const renewal = tls.renew?.((next) => listener.replaceTls(next));
  // Hint: the CRL this replica holds for a database outage follows the database, whether or not it is asked for.
  await http.crls.refresh(context);
  const crlRefresh = setInterval(() => void http.crls.refresh(context), CRL_REFRESH_MS);
  crlRefresh.unref?.();
  /** Stops what has started when a later part of the start fails. */
  const abandon = async (started?: FleetServices) => {
    clearInterval(crlRefresh);
    renewal?.stop();
    await started?.stop();
    await listener.stop();
    await store.close();
  };
  let fleet: FleetServices;
  try {
    fleet = await startFleetServices(options, context, http, serverCa.certPem, log);
  } catch (error) {
    await abandon();
    throw error;
  }
  let broker: EmbeddedBroker | undefined;
  if (options.mqttListen) {
    const { host, port } = options.mqttListen;
    const extraNames = isWildcardHost(host) ? [machineName] : [];
    try {
      broker = await startEmbeddedBroker({
        listen: options.mqttListen,
        ctx: context,
        tenant: DEFAULT_TENANT,
        serverCa,
        log,
        extraNames,
        readiness: (change) => fleet.recorder.report(change),
      });
    } catch (error) {
      await abandon(fleet);
      throw cannotStart(
        `cannot listen on ${host}:${port} (--mqtt-listen): ${listenProblem(error)}`,
      );
    }
  }
  return {
    url: apiUrl(options, listener.port, machineName),
    adminTokenPath: tokenPath,
    newAdminToken,
    serverCaPem: serverCa.certPem,
    serverCaPath: serverCaPath(options.data),
    serverCaFingerprint: sha256Fingerprint(serverCa.certPem),
    broker,
    fleet,
    context,
    async reloadTls() {
      if (options.tls.kind !== "operator") return;
      const { certFile, keyFile } = options.tls;
      try {
        const next = readOperatorCertificate(certFile, keyFile, now());
        await listener.replaceTls(next);
        http.setServerCaPem(next.rootPem);
        log.info(
          `SIGHUP: serving the TLS certificate of ${certFile} again (valid until ${new Date(next.notAfter).toISOString()})`,
        );
      } catch (error) {
        log.error(`SIGHUP: kept the TLS certificate in use: ${(error as Error).message}`);
      }
    },
    async stop() {
      clearInterval(crlRefresh);
      renewal?.stop();
      await drain(listener, DRAIN_MS);
      await broker?.stop();
      await fleet.stop();
      await store.close();
    },
  };
}

/** How long a stop lets the requests in flight finish before it closes their connections. */
const DRAIN_MS = 10_000;

/**
 * Stops accepting connections and lets the requests in flight finish, for at most `ms`. Hint: a provisioning cut
 * off after its commit is recorded but never answered; answered, the device need not come back for it.
 */
async function drain(listener: ReturnType<typeof startListener>, ms: number): Promise<void> {
  const late = await settleWithin(
    listener.stop(false).then(() => false),
    ms,
    () => true,
  );
  if (late) await listener.stop(true);
}

/** The listener's first TLS material, the root `GET /v1/server-ca` answers, and how it is renewed. */
interface TlsStart {
  initial: ListenerTls | undefined;
  rootPem: string | undefined;
  renew?: (apply: (next: ServerCertificate) => Promise<void>) => Renewal;
}

async function startTls(
  options: ServerConfig,
  serverCa: CertificateAuthority,
  validity: number,
  machineName: string,
  log: Logger,
  now: () => number,
): Promise<TlsStart> {
  const mode = options.tls;
  if (mode.kind === "plain") return { initial: undefined, rootPem: serverCa.certPem };
  if (mode.kind === "operator") {
    try {
      const operator = readOperatorCertificate(mode.certFile, mode.keyFile, now());
      return { initial: operator, rootPem: operator.rootPem };
    } catch (error) {
      throw cannotStart((error as Error).message);
    }
  }
  const names = tlsNames(
    options.listen.host,
    mode.hostnames.length > 0 ? mode.hostnames : [machineName],
  );
  const issue = () => issueServerCertificate(serverCa, names, "API", validity, now());
  const first = await issue();
  return {
    initial: first,
    rootPem: serverCa.certPem,
    renew: (apply) => keepRenewed(first, issue, apply, log, "API", now),
  };
}

/** The URL clients use: the listen address, or for every interface the first name of the certificate. */
function apiUrl(options: ServerConfig, port: number, machineName: string): string {
  const scheme = options.tls.kind === "plain" ? "http" : "https";
  let host = options.listen.host;
  if (isWildcardHost(host))
    host = options.tls.kind === "self" ? (options.tls.hostnames[0] ?? machineName) : machineName;
  return `${scheme}://${host.includes(":") ? `[${host}]` : host}:${port}`;
}

/** The server CA, opened with the master key from `source`; exit 3 when that key is not the database's. */
async function openServerCa(
  store: Store,
  sealer: Sealer,
  source: string,
  dataDir: string,
  now: number,
): Promise<CertificateAuthority> {
  try {
    return await loadServerCa(store, sealer, dataDir, now);
  } catch (error) {
    if (!(error instanceof SealedUnderAnotherKey)) throw error;
    throw cannotStart(
      `the master key from ${source} does not open the keys sealed in the database: every replica, and a restored backup, needs the master key the database was created with (DIR/master.key or IOTA_MASTER_KEY)`,
    );
  }
}
