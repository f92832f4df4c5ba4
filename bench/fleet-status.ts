/**
 * Benchmark: the fleet summary and filtered device pages of a tenant of 1,000,000 devices, on SQLite (a file, as
 * iota-server runs it) and on PostgreSQL (a throwaway cluster), through the HTTP app in-process. The database is
 * filled with bulk SQL (the indexes rebuilt afterwards, the counters computed as migration 4 does), then each
 * request is timed; p50 and p99 over the measured requests.
 */

import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SQL } from "bun";
import { Database } from "bun:sqlite";
import { REGISTERED } from "../src/core/enrollment.ts";
import { Sealer, newMasterKey } from "../src/iota-server/ca/sealer.ts";
import { openStore, type SqlStore } from "../src/iota-server/store/sql-store.ts";
import type { Query } from "../src/iota-server/store/sql-driver.ts";
import { DEFAULT_TENANT, Tenants } from "../src/iota-server/domain/tenants.ts";
import { createHttp, DEFAULT_APP_OPTIONS } from "../src/iota-server/http/app.ts";
import { memoryLogger } from "../src/iota-server/log.ts";
import { startTestPostgres } from "../test/helpers/postgres.ts";
import { fillSql, BIG_GROUP, groupNames } from "./fleet-status-fill.ts";
import { printTable } from "./load.ts";

const DAY = 86_400_000;
const WARMUP = 20;
const MEASURED = 300;

/** p50 and p99 of one request shape, in ms. */
export interface Latency {
  p50: number;
  p99: number;
  /** Devices in the first answer's page (for a summary: devices counted), to show nothing is empty. */
  items: number;
}

/** The figures of one engine. */
export interface EngineResult {
  devices: number;
  fillSeconds: number;
  /** SQLite: opening the filled file again, and the planned renewals it then holds in memory (bytes). */
  openSeconds: number;
  keysBytes: number;
  summary: Latency;
  groupSummary: Latency;
  /** The headline filtered page: offline devices of the largest group, from a random place in it. */
  page: Latency;
  pages: Record<string, Latency>;
}

const quantile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** Fills a fresh database of `dialect` at `url`; returns the store on it and the fill time. */
async function fill(url: string, devices: number, now: number) {
  const started = performance.now();
  let store = await openStore(url);
  const sealer = new Sealer(newMasterKey());
  let tenants = new Tenants(store, sealer);
  const created = await tenants.create(DEFAULT_TENANT, now);
  if (!created) throw new Error("the bench database already has a tenant");
  for (const name of groupNames(devices))
    await store.insertGroup({
      ...REGISTERED,
      tenantId: DEFAULT_TENANT,
      name,
      secretSealed: sealer.seal("bench", `group-secret:${DEFAULT_TENANT}/${name}`),
      validity: 30 * 86_400,
      grace: 7 * 86_400,
      createdAt: now,
      secretRotatedAt: now,
    });
  const statements = fillSql(store.dialect, devices);
  let opened = 0;
  let keysBytes = 0;
  const params = [now, "x".repeat(700)];
  if (store.dialect === "sqlite") {
    const db = new Database(url.slice("sqlite:".length));
    const indexes = db
      .query(
        "select name, sql from sqlite_master where type = 'index' and tbl_name = 'devices' and sql is not null",
      )
      .all() as { name: string; sql: string }[];
    for (const i of indexes) db.run(`drop index ${i.name}`);
    db.query(statements.devices.replace(/\$(\d)/g, "?$1")).run(...(params as never[]));
    for (const sql of statements.counters) db.run(sql);
    for (const i of indexes) db.run(i.sql);
    db.close();
    // Hint: the devices were written behind the store's connection, so it is opened again, as iota-server starts
    // on an existing database: that reads the planned renewals into memory (renewal-keys.ts).
    await store.close();
    const opening = performance.now();
    store = await openStore(url);
    opened = (performance.now() - opening) / 1000;
    tenants = new Tenants(store, sealer);
    const sql = (store as unknown as { sql: Query }).sql;
    const [pages] = await sql`pragma temp.page_count`;
    const [size] = await sql`pragma temp.page_size`;
    keysBytes = Number(pages?.page_count) * Number(size?.page_size);
  } else {
    const db = new SQL(url, { max: 1 });
    const indexes = (await db`select indexname, indexdef from pg_indexes
      where tablename = 'devices' and indexname <> 'devices_pkey'`) as {
      indexname: string;
      indexdef: string;
    }[];
    for (const i of indexes) await db.unsafe(`drop index ${i.indexname}`);
    await db.unsafe(statements.devices, params);
    for (const sql of statements.counters) await db.unsafe(sql);
    for (const i of indexes) await db.unsafe(i.indexdef);
    // Hint: what autovacuum does after a bulk load, so plans and index-only scans are those of a settled database.
    await db.unsafe("vacuum analyze");
    await db.close();
  }
  return {
    store,
    sealer,
    tenants,
    token: created.adminToken,
    seconds: (performance.now() - started) / 1000,
    opened,
    keysBytes,
  };
}

/** Times `path` (or one of `paths`, cycled) through the app; p50 and p99 in ms, and what the first answer held. */
async function time(
  request: (path: string) => Promise<Response>,
  paths: string[],
): Promise<Latency> {
  const first = (await (await request(paths[0] ?? "")).json()) as {
    items?: unknown[];
    devices?: { total: number };
  };
  const items = first.items?.length ?? first.devices?.total ?? 0;
  const ms: number[] = [];
  for (let i = 0; i < WARMUP + MEASURED; i++) {
    const path = paths[i % paths.length] ?? "";
    const started = performance.now();
    const res = await request(path);
    const body = await res.text();
    const elapsed = performance.now() - started;
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${body.slice(0, 300)}`);
    if (i >= WARMUP) ms.push(elapsed);
  }
  ms.sort((a, b) => a - b);
  return { p50: quantile(ms, 0.5), p99: quantile(ms, 0.99), items };
}

/** Fills and measures one engine. */
async function measure(url: string, devices: number): Promise<EngineResult> {
  const now = Date.now();
  const { store, sealer, tenants, token, seconds, opened, keysBytes } = await fill(
    url,
    devices,
    now,
  );
  try {
    const ctx = { store: store as SqlStore, sealer, tenants, now: () => now };
    const { app } = createHttp(ctx, memoryLogger(), DEFAULT_APP_OPTIONS);
    const request = async (path: string) =>
      await app.request(path, { headers: { authorization: `Bearer ${token}` } });
    // Random places in the big group: a cursor per request, as a dashboard paging or jumping around does.
    const cursors = Array.from(
      { length: 97 },
      (_, i) => `dev-${(i * 7919) % Math.floor(devices * 0.19)}`,
    );
    const devicesOf = `/v1/groups/${BIG_GROUP}/devices?limit=100`;
    const week = new Date(now + 7 * DAY).toISOString();
    const pages: Record<string, Latency> = {
      "online=false (cursor at random)": await time(
        request,
        cursors.map((c) => `${devicesOf}&online=false&cursor=${c}`),
      ),
      "state=provisioned&online=true (cursor at random)": await time(
        request,
        cursors.map((c) => `${devicesOf}&state=provisioned&online=true&cursor=${c}`),
      ),
      "state=revoked": await time(request, [`${devicesOf}&state=revoked`]),
      "overdue=true": await time(request, [`${devicesOf}&overdue=true`]),
      "expiringBefore=now+7d": await time(request, [`${devicesOf}&expiringBefore=${week}`]),
      "q=dev-1234 (name prefix)": await time(request, [`${devicesOf}&q=dev-1234`]),
    };
    return {
      devices,
      fillSeconds: seconds,
      openSeconds: opened,
      keysBytes,
      summary: await time(request, ["/v1/status"]),
      groupSummary: await time(request, [`/v1/groups/${BIG_GROUP}/status`]),
      page: pages["online=false (cursor at random)"] as Latency,
      pages,
    };
  } finally {
    await store.close();
  }
}

const ms = (n: number) => n.toFixed(2);

/** Runs the benchmark on both engines and prints its table. */
export async function main(
  devices = Number(process.env.BENCH_FLEET_STATUS_DEVICES ?? 1_000_000),
): Promise<{ sqlite: EngineResult; postgres: EngineResult }> {
  console.log(
    `\n## Fleet status at ${devices.toLocaleString("en-US")} devices (bench/fleet-status.ts)\n`,
  );
  const dir = mkdtempSync(join(tmpdir(), "iota-bench-fleet-"));
  const pg = await startTestPostgres();
  try {
    const file = join(dir, "iota.db");
    const sqlite = await measure(`sqlite:${file}`, devices);
    const size = statSync(file).size;
    const postgres = await measure(await pg.createDatabase(), devices);
    const rows = [["request (p50 / p99 ms)", "items", "SQLite", "PostgreSQL"]];
    const row = (label: string, a: Latency, b: Latency) => {
      if (a.items !== b.items)
        throw new Error(`${label}: SQLite answered ${a.items} items, PostgreSQL ${b.items}`);
      rows.push([
        label,
        String(a.items),
        `${ms(a.p50)} / ${ms(a.p99)}`,
        `${ms(b.p50)} / ${ms(b.p99)}`,
      ]);
    };
    row(
      `GET /v1/status (tenant summary, ${groupNames(devices).length} groups)`,
      sqlite.summary,
      postgres.summary,
    );
    row(`GET /v1/groups/${BIG_GROUP}/status`, sqlite.groupSummary, postgres.groupSummary);
    for (const [name, latency] of Object.entries(sqlite.pages))
      row(`page of 100: ${name}`, latency, postgres.pages[name] as Latency);
    printTable(rows);
    console.log(
      `fill (bulk SQL, counters, indexes): SQLite ${sqlite.fillSeconds.toFixed(1)} s (${(size / 1e6).toFixed(0)} MB), PostgreSQL ${postgres.fillSeconds.toFixed(1)} s`,
    );
    console.log(
      `SQLite opened on the filled file: ${sqlite.openSeconds.toFixed(2)} s, planned renewals in memory ${(sqlite.keysBytes / 1e6).toFixed(0)} MB`,
    );
    console.log(
      `targets on SQLite: summary <= 50 ms (p99 ${ms(sqlite.summary.p99)}), filtered page <= 20 ms (p99 ${ms(sqlite.page.p99)})`,
    );
    return { sqlite, postgres };
  } finally {
    await pg.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.main) await main();
