/**
 * Durable writes for the embedded SQLite store by group commit: transactions commit into the WAL as
 * before (synchronous=NORMAL), and a write is answered only after an fsync of the WAL that began after
 * its commit. One fsync covers every commit made while the previous one ran, and it runs off the event
 * loop, so a CA never answers with a certificate it could forget in a power cut, at little cost.
 */

import { constants } from "node:fs";
import { open } from "node:fs/promises";
import type { Store } from "./store.ts";

/** Coalesces durability requests: callers share one sync, started after they asked. */
export class GroupCommit {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  /** Syncs started so far (for tests and the benchmark). */
  syncs = 0;

  constructor(private readonly syncOnce: () => Promise<void>) {}

  /** Resolves once everything committed before this call is on stable storage. */
  sync(): Promise<void> {
    if (!this.running) return this.start();
    // Hint: the running sync may have begun before the caller's commit; join the next one instead.
    this.queued ??= this.running.then(
      () => this.startQueued(),
      () => this.startQueued(),
    );
    return this.queued;
  }

  private startQueued(): Promise<void> {
    this.queued = undefined;
    return this.start();
  }

  private start(): Promise<void> {
    this.syncs++;
    const run = this.syncOnce().finally(() => {
      if (this.running === run) this.running = undefined;
    });
    this.running = run;
    return run;
  }
}

/**
 * fsync of an SQLite database's WAL (`PATH-wal`), or of the database file when there is no WAL yet.
 * Hint: fsync flushes the file's data whatever descriptor asks, so SQLite's own handle needs no help.
 */
export function walSync(databasePath: string): () => Promise<void> {
  const fsyncPath = async (path: string) => {
    const handle = await open(path, constants.O_RDONLY);
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  };
  return async () => {
    try {
      await fsyncPath(`${databasePath}-wal`);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      await fsyncPath(databasePath);
    }
  };
}

/** The store methods that change data: each answers only after a group commit. */
const WRITES = [
  "insertTenant",
  "insertAdminToken",
  "insertServerCa",
  "insertGroup",
  "deleteGroup",
  "setGroupSecret",
  "setGroupEnrollment",
  "enrollDevice",
  "insertDevices",
  "deleteDevice",
  "recordProvisioned",
  "recordRenewed",
  "revokeDevice",
  "resetDevice",
  // Hint: a CRL number is served only once durable, or a power cut could hand it out again.
  "allocateCrl",
] as const satisfies readonly (keyof Store)[];

/** `store` with every write made durable through `commits`; reads pass straight through. */
export function withGroupCommit<S extends Store>(store: S, commits: GroupCommit): S {
  // Hint: prototype delegation keeps every other member (reads, close, dialect) exactly as it is.
  const durable = Object.create(store) as S;
  for (const name of WRITES) {
    const write = (store[name] as (...args: unknown[]) => Promise<unknown>).bind(store);
    Object.defineProperty(durable, name, {
      value: async (...args: unknown[]) => {
        const result = await write(...args);
        await commits.sync();
        return result;
      },
    });
  }
  return durable;
}

/** The database file a `sqlite:` URL names; undefined for PostgreSQL (durable per commit already) and in-memory databases. */
export function sqliteFileOf(url: string): string | undefined {
  if (!url.startsWith("sqlite:")) return undefined;
  const filename = url.replace(/^sqlite:(\/\/)?/, "");
  return filename === "" || filename === ":memory:" ? undefined : filename;
}

/** Opens durability for a store on `url`: group commit over the WAL for SQLite files, the store itself otherwise. */
export function durableStore<S extends Store>(store: S, url: string): S {
  const file = sqliteFileOf(url);
  return file ? withGroupCommit(store, new GroupCommit(walSync(file))) : store;
}
