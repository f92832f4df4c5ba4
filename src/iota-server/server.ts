/** Composes a running iota-server: data folder, master key, store, default tenant, HTTP listener. */

import { existsSync } from "node:fs";
import { join } from "node:path";
import { Sealer } from "./ca/sealer.ts";
import { openStore } from "./store/sql-store.ts";
import { durableStore } from "./store/group-commit.ts";
import type { Store } from "./store/store.ts";
import { Tenants, DEFAULT_TENANT } from "./domain/tenants.ts";
import type { DomainContext } from "./domain/context.ts";
import { createHttp, DEFAULT_APP_OPTIONS, type AppOptions } from "./http/app.ts";
import type { Logger } from "./log.ts";
import { ensureDataDir, loadMasterKey, writeSecretFile } from "./data-dir.ts";
import type { ServerOptions } from "./config.ts";
import { startEmbeddedBroker, type EmbeddedBroker } from "./mqtt/embedded-broker.ts";
import { isWildcardHost } from "./mqtt/broker-certificate.ts";
import { hostname } from "node:os";

/** A started server. */
export interface RunningServer {
  /** Base URL of the API, e.g. `http://127.0.0.1:8440`. */
  url: string;
  /** Path of the admin token file (written on first start). */
  adminTokenPath: string;
  /** The admin token when this start created the default tenant; otherwise undefined. */
  newAdminToken: string | undefined;
  /** The embedded MQTT broker, when `--mqtt-listen` asked for one. */
  broker: EmbeddedBroker | undefined;
  context: DomainContext;
  stop(): Promise<void>;
}

/** Opens everything `options` names and starts listening. */
export async function startServer(
  options: ServerOptions,
  log: Logger,
  app: Partial<AppOptions> = {},
): Promise<RunningServer> {
  ensureDataDir(options.data);
  const sealer = new Sealer(loadMasterKey(options.data, options.masterKey));
  const store: Store = durableStore(await openStore(options.db), options.db);
  const context: DomainContext = {
    store,
    sealer,
    tenants: new Tenants(store, sealer),
    now: Date.now,
  };
  const adminTokenPath = join(options.data, "admin-token");
  let newAdminToken: string | undefined;
  if (!(await store.getTenant(DEFAULT_TENANT))) {
    const created = await context.tenants.create(DEFAULT_TENANT, Date.now());
    if (created) {
      newAdminToken = created.adminToken;
      writeSecretFile(adminTokenPath, `${created.adminToken}\n`);
    }
  }
  if (!newAdminToken && !existsSync(adminTokenPath)) {
    log.info(
      `the default tenant exists but ${adminTokenPath} does not; it was written by the replica that created the tenant`,
    );
  }
  const http = createHttp(context, log, {
    ...DEFAULT_APP_OPTIONS,
    ...(options.trustProxy ? { trustedProxies: options.trustProxy } : {}),
    ...app,
  });
  // Hint: the issuing routes skip hono's router; every other path and method goes to the app.
  const server = Bun.serve({
    hostname: options.listen.host,
    port: options.listen.port,
    routes: http.routes,
    fetch: http.app.fetch,
    maxRequestBodySize: 64 * 1024 * 1024,
  });
  const host = options.listen.host.includes(":") ? `[${options.listen.host}]` : options.listen.host;
  let broker: EmbeddedBroker | undefined;
  if (options.mqttListen) {
    const extraNames = isWildcardHost(options.mqttListen.host) ? [hostname()] : [];
    broker = await startEmbeddedBroker({
      listen: options.mqttListen,
      ctx: context,
      tenant: DEFAULT_TENANT,
      log,
      extraNames,
    });
  }
  return {
    url: `http://${host}:${server.port}`,
    adminTokenPath,
    newAdminToken,
    broker,
    context,
    async stop() {
      await broker?.stop();
      await server.stop(true);
      await store.close();
    },
  };
}
