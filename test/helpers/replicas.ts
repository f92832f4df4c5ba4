/** Test support: service replicas in process (own store, CA and CRL caches) on one database and one clock the test moves. */

import { REGISTERED } from "../../src/core/enrollment.ts";
import type { DomainContext } from "../../src/iota-server/domain/context.ts";
import { CrlCache } from "../../src/iota-server/domain/crl.ts";
import { DEFAULT_TENANT } from "../../src/iota-server/domain/tenants.ts";
import { memoryLogger } from "../../src/iota-server/log.ts";
import { openStore, type SqlStore } from "../../src/iota-server/store/sql-store.ts";
import { domainContext } from "./test-service.ts";

/** One replica: its own store (connection pool), CA cache and CRL cache, on the shared database and clock. */
export interface Replica {
  store: SqlStore;
  ctx: DomainContext;
  crls: CrlCache;
  log: ReturnType<typeof memoryLogger>;
}

/** Opens a replica on the database at `url`, sealing with `masterKey`, its clock `clock.now`. */
export async function openReplica(
  url: string,
  masterKey: Uint8Array,
  clock: { now: number },
): Promise<Replica> {
  const store = await openStore(url);
  const log = memoryLogger();
  const ctx = domainContext(store, masterKey, () => clock.now, log);
  // Hint: a deadline no loaded machine reaches: these tests are about which CRL is served, not about time.
  return { store, ctx, crls: new CrlCache(60_000), log };
}

/**
 * Through `replica`, in the default tenant: a group `g` of one-day certificates and its `devices`, each provisioned
 * with the serial given beside its name (a certificate valid 30 days from `now`).
 */
export async function seedProvisionedGroup(
  replica: Replica,
  now: number,
  devices: (readonly [name: string, serial: string])[],
): Promise<void> {
  const T = DEFAULT_TENANT;
  const group = { tenantId: T, secretSealed: "s", validity: 86_400, grace: 0, ...REGISTERED };
  await replica.store.insertGroup({ ...group, name: "g", createdAt: now, secretRotatedAt: 0 });
  await replica.store.insertDevices(
    T,
    "g",
    devices.map(([name]) => name),
    now,
  );
  for (const [name, serial] of devices)
    await replica.store.recordProvisioned(
      { tenantId: T, group: "g", name },
      {
        serial,
        keyHash: `key-${serial}`,
        certificate: "PEM",
        notBefore: now,
        notAfter: now + 30 * 86_400_000,
        issuedAt: now,
      },
    );
}
