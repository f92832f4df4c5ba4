/** CRL numbers: two replicas on one PostgreSQL, signing at once and again at half validity, never share a number. */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { newMasterKey } from "../../src/iota-server/ca/sealer.ts";
import { CRL_VALIDITY_MS } from "../../src/iota-server/ca/authority.ts";
import { startTestPostgres, type TestPostgres } from "../helpers/postgres.ts";
import { DEFAULT_TENANT } from "../../src/iota-server/domain/tenants.ts";
import { openReplica, seedProvisionedGroup, type Replica } from "../helpers/replicas.ts";

const T = DEFAULT_TENANT;
let pg: TestPostgres | undefined;
const tmp = mkdtempSync(join(tmpdir(), "iota-crl-"));

beforeAll(async () => {
  pg = await startTestPostgres();
}, 120_000);
afterAll(async () => {
  await pg?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * Runs `body` on two replicas of a fresh database and one clock, with the default tenant and group `g` holding
 * `devices` (name and serial) provisioned; closes both after.
 */
async function withReplicas(
  devices: [name: string, serial: string][],
  body: (a: Replica, b: Replica, clock: { now: number }) => Promise<void>,
): Promise<void> {
  if (!pg) throw new Error("PostgreSQL did not start (see the beforeAll error above)");
  const url = await pg.createDatabase();
  const clock = { now: Date.now() };
  const masterKey = newMasterKey();
  const a = await openReplica(url, masterKey, clock);
  const b = await openReplica(url, masterKey, clock);
  try {
    expect(await a.ctx.tenants.create(T, clock.now)).toBeDefined();
    await seedProvisionedGroup(a, clock.now, devices);
    await body(a, b, clock);
  } finally {
    await Promise.all([a.store.close(), b.store.close()]);
  }
}

/** The number and serials of a CRL, as `openssl crl` reads them. */
function readCrl(pem: string, file: string): { number: number; serials: string[] } {
  writeFileSync(join(tmp, file), pem);
  const run = spawnSync("openssl", ["crl", "-in", file, "-noout", "-crlnumber", "-text"], {
    cwd: tmp,
    encoding: "utf8",
  });
  if (run.error)
    throw new Error(`openssl is required for this test (apt-get install openssl): ${run.error}`);
  if (run.status !== 0) throw new Error(`openssl crl: ${run.stderr}`);
  const number = /crlNumber=0x([0-9A-Fa-f]+)/.exec(run.stdout)?.[1];
  if (!number) throw new Error(`no CRL number in:\n${run.stdout}`);
  const serials = [...run.stdout.matchAll(/Serial Number: ([0-9A-Fa-f]+)/g)].map((m) =>
    (m[1] ?? "").toLowerCase(),
  );
  return { number: Number.parseInt(number, 16), serials };
}

test("two replicas signing CRLs at once, after revocations and again at half validity, never give two CRLs one number", async () => {
  await withReplicas(
    [
      ["d1", "0d01"],
      ["d2", "0d02"],
    ],
    async (a, b, clock) => {
      const byNumber = new Map<number, string>();
      let files = 0;
      /** Both replicas serve `perReplica` CRL requests each, all at once; the CRLs they answered, read by openssl. */
      const round = async (perReplica: number) => {
        const pems = await Promise.all(
          Array.from({ length: perReplica * 2 }, (_, i) => {
            const r = i % 2 === 0 ? a : b;
            return r.crls.get(r.ctx, T);
          }),
        );
        const crls = [...new Set(pems)].map((pem) => ({ pem, ...readCrl(pem, `${files++}.pem`) }));
        for (const crl of crls) {
          const earlier = byNumber.get(crl.number);
          // The same number on two different CRLs is what RFC 5280 forbids.
          expect({
            number: crl.number,
            sameCrl: earlier === undefined || earlier === crl.pem,
          }).toEqual({ number: crl.number, sameCrl: true });
          byNumber.set(crl.number, crl.pem);
        }
        return crls;
      };
      const max = (crls: { number: number }[]) => Math.max(...crls.map((c) => c.number));
      const min = (crls: { number: number }[]) => Math.min(...crls.map((c) => c.number));

      const first = await round(8);
      expect(first.every((c) => c.serials.length === 0)).toBe(true);

      // A revocation through replica B: both replicas sign again, with greater numbers, listing it.
      await b.store.revokeDevice({ tenantId: T, group: "g", name: "d1" }, clock.now);
      const afterRevocation = await round(8);
      expect(min(afterRevocation)).toBeGreaterThan(max(first));
      expect(afterRevocation.every((c) => c.serials.join() === "0d01")).toBe(true);

      // Nothing revoked, but half the validity passed: the CRL is signed again, each time under a new, greater number.
      for (let i = 0; i < 3; i++) {
        const before = max([...byNumber.keys()].map((number) => ({ number })));
        clock.now += CRL_VALIDITY_MS / 2 + 1000;
        const resigned = await round(4);
        expect(resigned.length).toBeGreaterThanOrEqual(1);
        expect(min(resigned)).toBeGreaterThan(before);
        expect(resigned.every((c) => c.serials.join() === "0d01")).toBe(true);
      }

      // Staggered, as an operator's CRL fetches reach one replica or the other: after a revocation A signs, B
      // serves what A signed, and once half its validity passed A signs again and B serves that one.
      await a.store.revokeDevice({ tenantId: T, group: "g", name: "d2" }, clock.now);
      const one = async (r: Replica) => {
        const pem = await r.crls.get(r.ctx, T);
        const crl = readCrl(pem, `${files++}.pem`);
        expect(byNumber.get(crl.number) ?? pem).toBe(pem);
        byNumber.set(crl.number, pem);
        return crl;
      };
      const fromA = await one(a);
      clock.now += CRL_VALIDITY_MS * 0.3;
      const fromB = await one(b);
      clock.now += CRL_VALIDITY_MS * 0.25;
      const resignedA = await one(a);
      expect(fromA.serials).toEqual(["0d01", "0d02"]);
      expect(fromB.number).toBe(fromA.number);
      expect(resignedA.number).toBeGreaterThan(fromB.number);
      expect((await one(b)).number).toBe(resignedA.number);
    },
  );
}, 120_000);

test("through a load balancer, replicas answer the same CRL and its number never goes down", async () => {
  await withReplicas(
    [
      ["d1", "0e01"],
      ["d2", "0e02"],
      ["d3", "0e03"],
    ],
    async (a, b, clock) => {
      const served: { number: number; serials: string[] }[] = [];
      // Hint: one broker's refreshes, each reaching whichever replica the balancer picks: A, B, A, B...
      const fetchBoth = async () => {
        const [pa, pb] = [await a.crls.get(a.ctx, T), await b.crls.get(b.ctx, T)];
        expect(pb).toBe(pa);
        served.push(readCrl(pa, `lb-${served.length}.pem`));
      };
      await fetchBoth();
      await fetchBoth();
      await a.store.revokeDevice({ tenantId: T, group: "g", name: "d1" }, clock.now);
      await fetchBoth();
      clock.now += CRL_VALIDITY_MS / 2 + 1000;
      await fetchBoth();
      await b.store.revokeDevice({ tenantId: T, group: "g", name: "d3" }, clock.now);
      await fetchBoth();
      const numbers = served.map((s) => s.number);
      expect(numbers).toEqual([...numbers].sort((x, y) => x - y));
      expect(new Set(numbers).size).toBe(4);
      expect(served.map((s) => s.serials.join())).toEqual(["", "", "0e01", "0e01", "0e01,0e03"]);
    },
  );
}, 120_000);
