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
import { WalCheckpointer, type CheckpointerOptions } from "./wal-checkpointer.ts";
import { checkInPlace, isStorageFailure, storageFailure } from "./storage-failure.ts";

/** Coalesces durability requests: callers share one sync, started after they asked. */
export class GroupCommit implements Durability {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  /** Syncs started so far (for tests and the benchmark). */
  syncs = 0;
  readonly checkpointsWal: boolean;

  constructor(private readonly syncOnce: SyncOnce) {
    this.checkpointsWal = syncOnce.checkpointer !== undefined;
  }

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

  walOverBound(): boolean {
    return this.syncOnce.checkpointer?.overBound() ?? false;
  }

  async emptyWal(): Promise<void> {
    await this.syncOnce.checkpointer?.empty();
  }

  /** Waits for the sync in progress, then lets go of what the syncs hold open. */
  async close(): Promise<void> {
    while (this.running || this.queued) await (this.queued ?? this.running)?.catch(() => {});
    await this.syncOnce.close?.();
  }
}

/**
 * One sync of the storage; `close` lets go of a file it keeps open; `checkpointer`, when there is one, copies
 * the synced WAL into the database file (see wal-checkpointer.ts).
 */
export type SyncOnce = (() => Promise<void>) & {
  close?: () => Promise<void>;
  checkpointer?: WalCheckpointer;
};

/**
 * fdatasync of an SQLite database's WAL (`PATH-wal`), or fsync of the database file when there is no WAL
 * yet. Hint: a sync flushes the file's data whatever descriptor asks, so SQLite's own handle needs no
 * help; the WAL stays open between syncs (SQLite keeps the one file while a connection is open, and
 * reuses it after checkpoints), so a sync is one call on the thread pool, not an open, a sync and a close.
 * fdatasync is what SQLite itself uses for the WAL: it writes the file's size too, not its times. After each
 * sync the checkpointer is told, so the WAL is copied into the database file off the event loop. A failed sync,
 * or a WAL or database file no longer at its path, rejects with a storage failure (storage-failure.ts), told to
 * `checkpoints.onProblem`.
 */
export function walSync(databasePath: string, checkpoints: CheckpointerOptions = {}): SyncOnce {
  const checkpointer = new WalCheckpointer(databasePath, checkpoints);
  let wal: number | undefined;
  let database: number | undefined;
  const syncWal = async () => {
    if (wal === undefined) {
      try {
        wal = openSync(`${databasePath}-wal`, constants.O_RDONLY);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
        const file = await open(databasePath, constants.O_RDONLY);
        try {
          await file.sync();
        } finally {
          await file.close();
        }
        return;
      }
      database = openSync(databasePath, constants.O_RDONLY);
    }
    const fd = wal;
    await new Promise<void>((done, fail) =>
      fdatasync(fd, (error) => (error ? fail(error) : done())),
    );
    // Hint: synced, but only worth answering while these are the files a restart opens.
    checkInPlace(`${databasePath}-wal`, fd);
    if (database !== undefined) checkInPlace(databasePath, database);
    checkpointer.committed();
  };
  const syncOnce = async () => {
    try {
      await syncWal();
    } catch (error) {
      const failure = isStorageFailure(error)
        ? error
        : storageFailure(
            `the write-ahead log ${databasePath}-wal could not be synced (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): what was written since the last sync may not be on disk. Fix the cause (the disk, its space, the file system) and restart iota-server`,
          );
      checkpoints.onProblem?.(
        `${failure.message}; until then every request using the database answers 503`,
      );
      throw failure;
    }
  };
  return Object.assign(syncOnce, {
    checkpointer,
    close: async () => {
      // Hint: the worker's connection closes first, so the service's own is the last and removes the WAL.
      await checkpointer.close();
      for (const fd of [wal, database]) if (fd !== undefined) closeSync(fd);
      wal = database = undefined;
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

/**
 * Opens durability for a store on `url`: group commit over the WAL for SQLite files, with their checkpoints on
 * a worker (`onProblem` hears of a failed one); the store itself otherwise.
 */
export function durableStore<S extends Store & DurableCapable>(
  store: S,
  url: string,
  onProblem?: (message: string) => void,
): S {
  const file = sqliteFileOf(url);
  return file ? withGroupCommit(store, new GroupCommit(walSync(file, { onProblem }))) : store;
}
