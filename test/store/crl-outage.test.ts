/**
 * The CRL through a PostgreSQL outage, for two replicas on one database with a clock the test moves: each serves
 * the newest CRL it signed or read until its nextUpdate, then a 503 that says why; a revocation made on the other
 * replica before the outage is in it once this replica refreshed; and the database's CRL again once it is back.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { settleWithin } from "../../src/core/deadline.ts";
import { IotaError } from "../../src/core/errors.ts";
import { newMasterKey } from "../../src/iota-server/ca/sealer.ts";
import { CrlCache } from "../../src/iota-server/domain/crl.ts";
import { DEFAULT_TENANT } from "../../src/iota-server/domain/tenants.ts";
import { memoryLogger } from "../../src/iota-server/log.ts";
import { openStore } from "../../src/iota-server/store/sql-store.ts";
import { x509 } from "../../src/core/x509.ts";
import { startPgRelay, type PgRelay } from "../helpers/pg-relay.ts";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.ts";
import {
  openReplica,
  seedProvisionedGroup,
  type Replica as OpenedReplica,
} from "../helpers/replicas.ts";
import { domainContext } from "../helpers/test-service.ts";

const T = DEFAULT_TENANT;
let pg: TestPostgres | undefined;
beforeAll(async () => {
  pg = await startTestPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
});

/** One replica, reaching the database through its own relay. */
interface Replica extends OpenedReplica {
  link: PgRelay;
}

/** The CRL number and the serials it lists. */
function read(pem: string): { number: number; serials: string[] } {
  const crl = new x509.X509Crl(pem);
  const ext = crl.extensions.find((e) => e.type === "2.5.29.20");
  const der = new Uint8Array(ext?.value ?? new ArrayBuffer(0));
  // Hint: an INTEGER (02 len bytes...) small enough for a number.
  const number = [...der.slice(2)].reduce((n, b) => n * 256 + b, 0);
  return { number, serials: (crl.entries ?? []).map((e) => e.serialNumber.toLowerCase()) };
}

test("a replica that lost its database serves the newest CRL it held until its nextUpdate, then a 503 naming why", async () => {
  if (!pg) throw new Error("PostgreSQL did not start (see the beforeAll error above)");
  const url = await pg.createDatabase();
  const clock = { now: Date.now() };
  const masterKey = newMasterKey();
  const replicas: Replica[] = [];
  for (let i = 0; i < 3; i++) {
    const link = await startPgRelay(url);
    // Hint: a cut relay refuses at once, and the CRL's deadline has its own test.
    replicas.push({ link, ...(await openReplica(link.url, masterKey, clock)) });
  }
  const [a, b, fresh] = replicas as [Replica, Replica, Replica];
  try {
    expect(await a.ctx.tenants.create(T, clock.now)).toBeDefined();
    await seedProvisionedGroup(a, clock.now, [
      ["d1", "0f01"],
      ["d2", "0f02"],
    ]);
    await a.store.revokeDevice({ tenantId: T, group: "g", name: "d1" }, clock.now);
    const first = await a.crls.get(a.ctx, T);
    expect(read(first).serials).toEqual(["0f01"]);
    // A revocation through B, published by B: A picks it up at its next refresh, before the outage.
    await b.store.revokeDevice({ tenantId: T, group: "g", name: "d2" }, clock.now);
    const published = await b.crls.get(b.ctx, T);
    expect(read(published).serials).toEqual(["0f01", "0f02"]);
    await a.crls.refresh(a.ctx);

    for (const r of replicas) await r.link.cut();
    // Both serve the newest CRL: the same bytes, the revocation made through B included.
    expect(await a.crls.get(a.ctx, T)).toBe(published);
    expect(await b.crls.get(b.ctx, T)).toBe(published);
    expect(a.log.lines.join("\n")).toMatch(
      /GET \/v1\/crl: the database is unavailable \(\w+\); serving the CRL number \d+ signed at/,
    );
    // Never one without what a CRL served before it listed.
    const failure = async (r: Replica) => {
      try {
        await r.crls.get(r.ctx, T);
      } catch (error) {
        return error as IotaError;
      }
      throw new Error("expected the CRL to be refused");
    };
    const none = await failure(fresh);
    expect(none).toBeInstanceOf(IotaError);
    expect(none.kind).toBe("unavailable");
    expect(none.retryAfter).toBe(5);
    expect(none.message).toBe(
      "The database is unavailable and this replica holds no CRL yet; retry later",
    );
    // Until its nextUpdate, then a 503: an expired CRL would make OpenSSL refuse every device.
    const nextUpdate = new x509.X509Crl(published).nextUpdate?.getTime() ?? 0;
    clock.now = nextUpdate - 1000;
    expect(await a.crls.get(a.ctx, T)).toBe(published);
    clock.now = nextUpdate;
    const expired = await failure(a);
    expect(expired.kind).toBe("unavailable");
    expect(expired.message).toContain(
      `the last CRL this replica holds (number ${read(published).number}) expired at ${new Date(nextUpdate).toISOString()}`,
    );
    expect(a.log.lines.join("\n")).toContain("GET /v1/crl failed: the database is unavailable");

    // Back: a new CRL from the database, numbered above the one served through the outage.
    for (const r of replicas) await r.link.open();
    let back: string | undefined;
    for (let i = 0; i < 300 && back === undefined; i++) {
      back = await a.crls.get(a.ctx, T).catch(async () => {
        await Bun.sleep(100);
        return undefined;
      });
    }
    if (back === undefined) throw new Error("the CRL did not come back with the database");
    expect(read(back).number).toBeGreaterThan(read(published).number);
    expect(read(back).serials).toEqual(["0f01", "0f02"]);
    expect(await fresh.crls.get(fresh.ctx, T)).toBe(back);
  } finally {
    for (const r of replicas) {
      await r.link.cut();
      await r.store.close();
    }
  }
}, 120_000);

test("a database cut off by the network (queries wait, nothing refuses) does not hold the CRL back past the deadline", async () => {
  if (!pg) throw new Error("PostgreSQL did not start (see the beforeAll error above)");
  const url = await pg.createDatabase();
  const link = await startPgRelay(url);
  const store = await openStore(link.url);
  const log = memoryLogger();
  const ctx = domainContext(store, newMasterKey(), () => Date.now(), log);
  const crls = new CrlCache(3_000);
  try {
    expect(await ctx.tenants.create(T, Date.now())).toBeDefined();
    // Hint: signed by the refresh, which waits as long as it takes, so a loaded machine cannot fail this part.
    await crls.refresh(ctx);
    const held = await crls.get(ctx, T);
    link.freeze();
    // Hint: a bound far above the deadline, so a hanging answer fails here with a reason, not at the test's timeout.
    const answer = await settleWithin(crls.get(ctx, T), 30_000, () => "no answer within 30 s");
    expect(answer).toBe(held);
    expect(log.lines.join("\n")).toMatch(
      /GET \/v1\/crl: the database is unavailable \(ETIMEDOUT\); serving the CRL number \d+/,
    );
  } finally {
    await link.cut();
    await store.close();
  }
}, 120_000);
