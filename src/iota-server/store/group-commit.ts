/**
 * Durable writes for the embedded SQLite store by group commit: transactions commit into the WAL
 * (synchronous=NORMAL), and a write is answered only after an fsync of the WAL that began after its
 * commit. The writes asked for while one fsync runs commit as one transaction and share the next fsync,
 * which runs off the event loop, so a CA never answers with a certificate it could forget in a power cut.
 */

import { closeSync, constants, fdatasync, openSync } from "node:fs";
import { open } from "node:fs/promises";
import type { Store } from "./store.ts";
import type { Durability } from "./sqlite-driver.ts";

/** Coalesces durability requests: callers share one sync, started after they asked. */
export class GroupCommit implements Durability {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  /** Syncs started so far (for tests and the benchmark). */
  syncs = 0;

  constructor(private readonly syncOnce: SyncOnce) {}

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

  /** Waits for the sync in progress, then lets go of what the syncs hold open. */
  async close(): Promise<void> {
    while (this.running || this.queued) await (this.queued ?? this.running)?.catch(() => {});
    await this.syncOnce.close?.();
  }
}

/** One sync of the storage; `close` lets go of a file it keeps open. */
export type SyncOnce = (() => Promise<void>) & { close?: () => Promise<void> };

/**
 * fdatasync of an SQLite database's WAL (`PATH-wal`), or fsync of the database file when there is no WAL
 * yet. Hint: a sync flushes the file's data whatever descriptor asks, so SQLite's own handle needs no
 * help; the WAL stays open between syncs (SQLite keeps the one file while a connection is open, and
 * reuses it after checkpoints), so a sync is one call on the thread pool, not an open, a sync and a close.
 * fdatasync is what SQLite itself uses for the WAL: it writes the file's size too, not its times.
 */
export function walSync(databasePath: string): SyncOnce {
  let wal: number | undefined;
  const syncOnce = async () => {
    if (wal === undefined) {
      try {
        wal = openSync(`${databasePath}-wal`, constants.O_RDONLY);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        const database = await open(databasePath, constants.O_RDONLY);
        try {
          await database.sync();
        } finally {
          await database.close();
        }
        return;
      }
    }
    const fd = wal;
    await new Promise<void>((done, fail) =>
      fdatasync(fd, (error) => (error ? fail(error) : done())),
    );
  };
  return Object.assign(syncOnce, {
    close: async () => {
      if (wal !== undefined) closeSync(wal);
      wal = undefined;
    },
  });
}

/** A store whose writes can be made to wait for a {@link Durability} (SqlStore). */
export interface DurableCapable {
  useDurability(durability: Durability): void;
}

/**
 * `store` with every write answered only after a sync of `commits` that began after its commit. Hint: the
 * SQLite driver does it (sqlite-driver.ts): writing transactions commit together, one transaction per batch,
 * and a statement outside a transaction that writes waits for a sync too; reads never wait.
 */
export function withGroupCommit<S extends Store & DurableCapable>(
  store: S,
  commits: GroupCommit,
): S {
  store.useDurability(commits);
  return store;
}

/** The database file a `sqlite:` URL names; undefined for PostgreSQL (durable per commit already) and in-memory databases. */
export function sqliteFileOf(url: string): string | undefined {
  if (!url.startsWith("sqlite:")) return undefined;
  const filename = url.replace(/^sqlite:(\/\/)?/, "");
  return filename === "" || filename === ":memory:" ? undefined : filename;
}

/** Opens durability for a store on `url`: group commit over the WAL for SQLite files, the store itself otherwise. */
export function durableStore<S extends Store & DurableCapable>(store: S, url: string): S {
  const file = sqliteFileOf(url);
  return file ? withGroupCommit(store, new GroupCommit(walSync(file))) : store;
}
