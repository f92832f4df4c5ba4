/**
 * The floor under provisioning: a ladder of bare Bun.serve processes, each doing one part more of what
 * iota-server does per device, measured side by side with iota-server itself under the provisioning benchmark's
 * load, with OpenSSL's sign + verify sampled between the rounds. Each rung's CPU per device, what its part
 * added, and the efficiency it would have (OpenSSL's cost / its CPU) come from one run on one machine.
 */

import { Database } from "bun:sqlite";
import { createHash, createPublicKey, verify } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deviceCsrPem, OpensslReference, printTable } from "./load.ts";
import {
  measureSideBySide,
  ROUND,
  serverEnv,
  startChild,
  startIota,
  stop,
  type LoadTarget,
  type ServerRun,
} from "./servers.ts";
import { openStore } from "../src/iota-server/store/sql-store.ts";
import { durableStore } from "../src/iota-server/store/group-commit.ts";
import { CertificateAuthority } from "../src/iota-server/ca/authority.ts";
import { decodePem } from "../src/core/pem.ts";
import { readPlainCsr } from "../src/iota-server/domain/csr-reader.ts";
import { REGISTERED } from "../src/core/enrollment.ts";

/** The rungs of bare servers: what each does, and the rung whose work it adds to (its part is the difference). */
const RUNGS = {
  http: { does: "HTTP and JSON", adds: undefined },
  crypto: { does: "+ the CSR's verify and the certificate's signature", adds: "http" },
  bare: {
    does: "+ the least durable write: one row of a one-index table, one fsync per batch",
    adds: "crypto",
  },
  statements: {
    does: "instead, iota-server's statements on its schema (two reads, device update, certificate), in line",
    adds: "crypto",
  },
  store: { does: "instead, iota-server's store as the service calls it", adds: "crypto" },
} as const;
type Rung = keyof typeof RUNGS;
/** What is measured: the rungs, and iota-server itself. */
type Mode = Rung | "iota";
const IOTA = "iota-server: all of the above, and its checks, idempotency, limits, log and metrics";

const DEVICES = Number(process.env.BENCH_DEVICES ?? 20_000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? Math.min(10_000, Math.ceil(DEVICES / 2)));
const JSON_HEADERS = { "content-type": "application/json" };

/** A certificate as the rungs store it. */
interface Issued {
  pem: string;
  serial: string;
  notBefore: number;
  notAfter: number;
}

/** A write that resolves once durable; the updates asked for in one turn of the event loop commit together. */
type DurableWrite = (device: string, cert: Issued, keyHash: string, at: number) => Promise<void>;

/**
 * Batches `apply` per turn of the event loop in one transaction of `db` (synchronous=FULL: fsync at commit); a
 * failed transaction fails every write of its batch.
 */
function perTurn(db: Database, apply: (w: Parameters<DurableWrite>) => void): DurableWrite {
  type Waiting = { write: Parameters<DurableWrite>; done: () => void; fail: (e: unknown) => void };
  let batch: Waiting[] = [];
  const commit = db.transaction((writes: Waiting[]) => {
    for (const { write } of writes) apply(write);
  });
  const commitTurn = () => {
    const writes = batch;
    batch = [];
    try {
      commit(writes);
      for (const w of writes) w.done();
    } catch (error) {
      for (const w of writes) w.fail(error);
    }
  };
  return (...write) =>
    new Promise<void>((done, fail) => {
      if (batch.push({ write, done, fail }) === 1) setImmediate(commitTurn);
    });
}

/** The least durable write: a table of device names, each provisioning setting its row's serial and certificate. */
function bareWrite(path: string, names: string[]): DurableWrite {
  const db = new Database(path);
  db.run("pragma journal_mode = wal");
  db.run("pragma synchronous = full");
  db.run("create table devices (name text primary key, serial text, certificate text)");
  const insert = db.prepare("insert into devices (name) values (?)");
  db.transaction(() => {
    for (const name of names) insert.run(name);
  })();
  const update = db.prepare("update devices set serial = ?, certificate = ? where name = ?");
  return perTurn(db, ([device, cert]) => update.run(cert.serial, cert.pem, device));
}

/**
 * iota-server's provisioning statements on its schema, through a connection of their own, in line: the group and
 * device reads, the device update, the certificate record. Without the store's batching, its counters and its
 * planned renewals (a temporary table of the store's connection).
 */
function statementsWrite(path: string): DurableWrite {
  const db = new Database(path);
  db.run("pragma synchronous = full");
  const group = db.prepare("select * from device_groups where tenant_id = 't' and name = 'bench'");
  const device = db.prepare(
    "select * from devices where tenant_id = 't' and group_name = 'bench' and name = ?",
  );
  const update = db.prepare(`update devices set state = 'provisioned', serial = ?1, key_hash = ?2,
      certificate = ?3, not_before = ?4, not_after = ?5, first_issue = 1, prev_serial = null, provisioned_at = ?6,
      recovery_key = null, renew_at = ?7
    where tenant_id = 't' and group_name = 'bench' and name = ?8 and state = 'created' returning online`);
  const record = db.prepare(`insert into certificates
      (serial, tenant_id, group_name, device, not_after, issued_at, kind)
    values (?, 't', 'bench', ?, ?, ?, 'provision')`);
  const write = perTurn(db, ([name, cert, keyHash, at]) => {
    const renewAt = cert.notBefore + Math.round(((cert.notAfter - cert.notBefore) * 2) / 3);
    const values = [cert.serial, keyHash, cert.pem, cert.notBefore, cert.notAfter, at];
    if (update.all(...values, renewAt, name).length !== 1)
      throw new Error(`${name} was not waiting to be provisioned`);
    record.run(cert.serial, name, cert.notAfter, at);
  });
  return (name, ...rest) => {
    group.get();
    device.get(name);
    return write(name, ...rest);
  };
}

/** Serves POST /v1/provision as `rung` says, on a fresh store in `dir`; prints where it listens. */
async function serve(rung: Rung, dir: string): Promise<void> {
  const url = `sqlite:${join(dir, "floor.db")}`;
  const store = durableStore(await openStore(url), url);
  const now = Date.now();
  await store.insertTenant({ id: "t", caCert: "-", caKeySealed: "-", createdAt: now });
  await store.insertGroup({
    ...{ tenantId: "t", name: "bench", secretSealed: "-", validity: 30 * 86_400, grace: 0 },
    ...{ createdAt: now, secretRotatedAt: now, ...REGISTERED },
  });
  const { ca } = await CertificateAuthority.create("floor", now);
  let write: DurableWrite | undefined;
  if (rung === "store")
    write = async (name, cert, keyHash, at) => {
      const key = { tenantId: "t", group: "bench", name };
      await store.getGroup("t", "bench");
      await store.getDevice(key);
      const recorded = await store.recordProvisioned(key, {
        ...{ serial: cert.serial, keyHash, certificate: cert.pem },
        ...{ notBefore: cert.notBefore, notAfter: cert.notAfter, issuedAt: at },
      });
      if (!recorded) throw new Error(`${name} was not recorded`);
    };
  const provision = async (req: Request): Promise<Response> => {
    const body = (await req.json()) as { device: string; csr: string };
    if (rung === "http") return Response.json({ device: body.device }, { status: 201 });
    const csr = readPlainCsr(new Uint8Array(decodePem(body.csr)[0]?.der ?? []));
    if (!csr) return new Response("bad csr", { status: 400 });
    const key = createPublicKey({ key: Buffer.from(csr.spki), format: "der", type: "spki" });
    if (!verify("sha256", csr.info, { key, dsaEncoding: "ieee-p1363" }, csr.signature))
      return new Response("bad signature", { status: 400 });
    const at = Date.now();
    const id = { tenant: "t", group: "bench", device: body.device };
    const cert = await ca.issue(id, csr.spki, 30 * 86_400, at);
    if (write) {
      const keyHash = createHash("sha256").update(csr.spki).digest("hex");
      try {
        await write(body.device, cert, keyHash, at);
      } catch (error) {
        console.error(`${rung}: ${body.device}: ${error}`);
        return new Response(`not written: ${error}`, { status: 500 });
      }
    }
    const answer = { certificate: cert.pem, chain: `${cert.pem}${ca.certPem}`, ca: ca.certPem };
    return new Response(JSON.stringify(answer), { status: 201, headers: JSON_HEADERS });
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    routes: {
      "/devices": {
        POST: async (req) => {
          const { names } = (await req.json()) as { names: string[] };
          await store.insertDevices("t", "bench", names, Date.now());
          if (rung === "bare") write = bareWrite(join(dir, "bare.db"), names);
          if (rung === "statements") write = statementsWrite(join(dir, "floor.db"));
          return new Response("{}", { headers: JSON_HEADERS });
        },
      },
      "/v1/provision": { POST: provision },
    },
    fetch: () => new Response("not found", { status: 404 }),
  });
  console.log(`listening on http://127.0.0.1:${server.port}`);
}

/** The modes to measure: every rung and iota-server, or those `BENCH_FLOOR_MODES` lists (comma-separated). */
function floorModes(): Mode[] {
  const known = [...Object.keys(RUNGS), "iota"];
  const listed = process.env.BENCH_FLOOR_MODES?.split(",").map((m) => m.trim());
  if (!listed) return known as Mode[];
  const unknown = listed.filter((m) => !known.includes(m));
  if (unknown.length)
    throw new Error(`BENCH_FLOOR_MODES: unknown ${unknown.join(", ")}; known: ${known.join(", ")}`);
  return listed as Mode[];
}

/** A started rung or iota-server: its load target (created devices, bodies) and how to stop it. */
interface Started {
  target: LoadTarget;
  /** Stops it; its folder (with the rung's log) is removed unless `keep`. */
  stop: (keep: boolean) => Promise<void>;
  dir: string;
}

/** Starts `mode` on a folder of its own with `names` created; nothing is left running or behind when it fails. */
async function start(mode: Mode, names: string[], csrs: string[]): Promise<Started> {
  const dir = mkdtempSync(join(tmpdir(), "iota-floor-"));
  const clean = (keep = false) => {
    if (!keep) rmSync(dir, { recursive: true, force: true });
  };
  const target = (url: string, pid: number, bodies: string[]) => ({
    name: mode,
    pid,
    url,
    warm: bodies.slice(0, WARMUP),
    bodies: bodies.slice(WARMUP),
    ok: [201],
  });
  let stopChild = async () => {};
  try {
    if (mode === "iota") {
      const iota = await startIota(dir, names);
      stopChild = () => iota.stop();
      const bodies = names.map((device, i) =>
        JSON.stringify({ group: "bench", device, csr: csrs[i], secret: iota.provisioningSecret }),
      );
      return {
        dir,
        target: target(`${iota.url}/v1/provision`, iota.pid, bodies),
        stop: async (keep) => {
          await iota.stop();
          clean(keep);
        },
      };
    }
    const { child, firstLine } = await startChild(
      process.execPath,
      [import.meta.path, "--serve", mode, dir],
      join(dir, "floor.log"),
      undefined,
      // Hint: the same allocator settings as the iota-server it is compared with.
      serverEnv(),
    );
    stopChild = () => stop(child);
    const base = /listening on (\S+)/.exec(firstLine)?.[1];
    if (!base) throw new Error(`the ${mode} floor server did not start: ${firstLine}`);
    const created = await fetch(`${base}/devices`, {
      method: "POST",
      body: JSON.stringify({ names }),
    });
    if (!created.ok)
      throw new Error(`the ${mode} floor server did not create the devices: ${created.status}`);
    const bodies = names.map((device, i) =>
      JSON.stringify({ group: "bench", device, csr: csrs[i] }),
    );
    return {
      dir,
      target: target(`${base}/v1/provision`, child.pid ?? 0, bodies),
      stop: async (keep) => {
        await stop(child);
        clean(keep);
      },
    };
  } catch (error) {
    await stopChild();
    clean();
    throw error;
  }
}

/** Runs the floor ladder side by side with iota-server and prints its table. */
export async function main(): Promise<void> {
  const modes = floorModes();
  const names = Array.from({ length: DEVICES + WARMUP }, (_, i) => `bench-device-${i}`);
  const csrs: string[] = [];
  for (let i = 0; i < names.length; i += 500)
    csrs.push(...(await Promise.all(names.slice(i, i + 500).map((n) => deviceCsrPem(n)))));
  console.log(
    `\n## Provisioning floor: ${DEVICES} devices, 64 in flight, ${WARMUP} warm-up, side by side in rounds of ${ROUND}\n`,
  );
  const started: Started[] = [];
  const openssl = new OpensslReference();
  let failed = true;
  try {
    for (const mode of modes) started.push(await start(mode, names, csrs));
    const runs = await measureSideBySide(
      started.map((s) => s.target),
      64,
      ROUND,
      () => openssl.sample(),
    );
    const cost = openssl.cost(1, 1);
    const rows = [["server does", "CPU/device", "its part", "efficiency", "devices/s"]];
    const cpuOf = (mode: Mode | undefined) => {
      const run = mode === undefined ? undefined : runs[modes.indexOf(mode)];
      return run ? run.serverCpu / run.load.requests : undefined;
    };
    modes.forEach((mode, i) => {
      const run = runs[i] as ServerRun;
      const cpu = run.serverCpu / run.load.requests;
      // Hint: a part is counted only against the rung it adds to, and only when that rung was measured too.
      const base = mode === "iota" ? undefined : cpuOf(RUNGS[mode].adds);
      rows.push([
        mode === "iota" ? IOTA : RUNGS[mode].does,
        `${Math.round(cpu * 1e6)} us`,
        base === undefined ? "" : `${Math.round((cpu - base) * 1e6)} us`,
        (cost / cpu).toFixed(2),
        `${Math.round(run.load.requests / run.load.seconds)}`,
      ]);
    });
    printTable(rows);
    console.log(`\n${openssl.describe()}: one sign + one verify = ${(cost * 1e6).toFixed(1)} us`);
    failed = false;
  } finally {
    for (const s of started) await s.stop(failed);
    if (failed && started.length > 0)
      console.error(
        `the servers' folders (their logs) are kept: ${started.map((s) => s.dir).join(" ")}`,
      );
  }
}

if (process.argv[2] === "--serve") {
  await serve(process.argv[3] as Rung, process.argv[4] ?? tmpdir());
} else if (import.meta.main) {
  await main();
}
