/**
 * The embedded SQLite driver: `bun:sqlite` with each call site's statement prepared once, and writing
 * transactions committed together, one SQLite transaction per batch, each made durable before it is answered.
 */

import { Database, type Statement } from "bun:sqlite";
import type { AtCommit, Driver, Query } from "./sql-driver.ts";
import type { Row } from "./rows.ts";
import { isStorageFailure, storageFailure } from "./storage-failure.ts";
import { bindable, numbered, placeholders, writes } from "./sqlite-text.ts";

/** What makes a commit durable: resolves once everything committed before the call is on stable storage. */
export interface Durability {
  sync(): Promise<void>;
  /** It checkpoints the WAL itself, after its syncs: the connection's automatic checkpoints are turned off. */
  readonly checkpointsWal?: boolean;
  /** Called once the store closes. */
  close?(): Promise<void>;
  /** The WAL has outgrown its bound: the next batch commits only after {@link emptyWal}. */
  walOverBound?(): boolean;
  /** Copies the whole WAL into the database file while no batch commits, so the next commit starts it over. */
  emptyWal?(): Promise<void>;
}

/** A statement and whether running it may change the database (anything but a SELECT). */
interface Prepared {
  statement: Statement;
  writes: boolean;
}

/** One caller's writing transaction, waiting for its batch. */
interface Job {
  fn: (tx: Query) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/** How one job of a batch ended. */
type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * The SQLite driver: one connection. `write` transactions asked for while a batch commits and syncs gather
 * into the next batch: one BEGIN IMMEDIATE .. COMMIT for all of them, one failing rolling back only itself
 * (see transaction). With a {@link Durability}, a batch's callers are answered after the sync
 * that follows its commit, and a statement outside a transaction that writes waits for one too; the next
 * batch commits while that sync runs and the one after gathers until it ends, so a busy service writes and
 * syncs the WAL once per batch, not once per request. Statements outside a transaction wait while a batch
 * holds the connection.
 */
class SqliteDriver implements Driver {
  readonly dialect = "sqlite" as const;
  /** Each call site's statement. Hint: a Map, not a WeakMap, so close can finalize them all (call sites are few). */
  private readonly statements = new Map<TemplateStringsArray, Prepared>();
  /** Settles when the open transaction ends; undefined when none is open. */
  private held: Promise<void> | undefined;
  private pending: Job[] = [];
  /** The loop committing batches; undefined when no write is waiting. */
  private draining: Promise<void> | undefined;
  private durability: Durability | undefined;
  /** The sync (and answers) of the last batch committed, and of the one before it; they never reject. */
  private syncedLast: Promise<void> = Promise.resolve();
  private syncedBeforeLast: Promise<void> = Promise.resolve();
  /** A read transaction is open, shared by the reads of this turn of the event loop. */
  private reading = false;
  /** The open transaction's changes to write before it commits (see Query.atCommit). */
  private readonly atCommit = new Map<symbol, AtCommit>();
  /**
   * Set by the first sync that failed: the connection may then hold commits that are not on disk, so nothing
   * is read or written through it any more (see storage-failure.ts).
   */
  private failed: Error | undefined;

  private readonly begin: Statement;
  private readonly beginRead: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;
  private readonly savepoint: Statement;
  private readonly release: Statement;
  private readonly rollbackTo: Statement;

  constructor(private readonly db: Database) {
    this.begin = db.prepare("BEGIN IMMEDIATE");
    this.beginRead = db.prepare("BEGIN");
    this.commit = db.prepare("COMMIT");
    this.rollback = db.prepare("ROLLBACK");
    this.savepoint = db.prepare("SAVEPOINT job");
    this.release = db.prepare("RELEASE job");
    this.rollbackTo = db.prepare("ROLLBACK TO job");
  }

  /** From now on every write answers only once `durability` says it is durable. */
  useDurability(durability: Durability): void {
    this.durability = durability;
    if (durability.checkpointsWal) this.db.run("PRAGMA wal_autocheckpoint = 0");
  }

  private prepared(strings: TemplateStringsArray): Prepared {
    let prepared = this.statements.get(strings);
    if (!prepared) {
      const text = placeholders(strings);
      prepared = { statement: this.db.prepare(text), writes: writes(text) };
      this.statements.set(strings, prepared);
    }
    return prepared;
  }

  private runText(text: string, params: unknown[] = []): Row[] {
    const statement = this.db.prepare(numbered(text));
    try {
      return statement.all(...bindable(params)) as Row[];
    } finally {
      statement.finalize();
    }
  }

  /** Statements inside a batch's transaction. */
  private readonly direct: Query = Object.assign(
    async (strings: TemplateStringsArray, ...values: unknown[]) =>
      this.prepared(strings).statement.all(...bindable(values)) as Row[],
    {
      unsafe: async (text: string, params?: unknown[]) => this.runText(text, params),
      atCommit: <T extends AtCommit>(key: symbol, create: () => T): T => {
        const gathered = (this.atCommit.get(key) as T | undefined) ?? create();
        this.atCommit.set(key, gathered);
        return gathered;
      },
    },
  );

  /** Writes the changes gathered for the commit, then forgets them even when writing failed. */
  private async flushAtCommit(): Promise<void> {
    try {
      for (const gathered of this.atCommit.values()) await gathered.flush(this.direct);
    } finally {
      this.atCommit.clear();
    }
  }

  /**
   * Opens the read transaction of this turn of the event loop, if none is open. Hint: in WAL mode every
   * statement outside a transaction takes and drops SQLite's read locks (fcntl calls on the database and its
   * shared memory), several times the cost of a primary-key lookup; the reads of one turn share one
   * snapshot instead. Any write of this connection ends it first, so a read always sees this process's
   * committed writes; another process's commit is seen from the next turn on, as if the read came a moment earlier.
   */
  private startRead(): void {
    if (this.reading || this.db.inTransaction) return;
    this.beginRead.run();
    this.reading = true;
    setImmediate(() => this.endRead());
  }

  private endRead(): void {
    if (!this.reading) return;
    this.reading = false;
    if (this.db.inTransaction) this.commit.run();
  }

  readonly query: Query = Object.assign(
    async (strings: TemplateStringsArray, ...values: unknown[]) => {
      while (this.held) await this.held;
      this.usable();
      const prepared = this.prepared(strings);
      if (!prepared.writes) {
        this.startRead();
        return prepared.statement.all(...bindable(values)) as Row[];
      }
      this.endRead();
      const rows = prepared.statement.all(...bindable(values)) as Row[];
      await this.synced();
      return rows;
    },
    {
      unsafe: async (text: string, params?: unknown[]) => {
        while (this.held) await this.held;
        this.usable();
        this.endRead();
        const rows = this.runText(text, params);
        if (writes(text)) await this.synced();
        return rows;
      },
    },
  );

  /** Throws once a sync failed (see {@link failed}). */
  private usable(): void {
    if (this.failed) throw this.unusable(this.failed);
  }

  private unusable(failed: Error): Error {
    return storageFailure(`the database is no longer used: ${failed.message}`);
  }

  /** The durability's sync; its failure makes the connection unusable. */
  private async synced(): Promise<void> {
    try {
      await this.durability?.sync();
    } catch (error) {
      this.failed ??= isStorageFailure(error) ? error : storageFailure(String(error));
      throw this.failed;
    }
  }

  write<T>(fn: (tx: Query) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ fn, resolve: resolve as (value: unknown) => void, reject });
      this.draining ??= this.drain();
    });
  }

  /**
   * Commits batches until no write waits. Hint: a batch commits while the sync of the batch before it runs, and
   * the next one gathers until that sync ends: the JavaScript thread writes while the disk syncs, and a busy
   * service still commits once per sync, not once per request.
   */
  private async drain(): Promise<void> {
    // Hint: the writes asked for during this turn of the event loop join the first batch.
    await new Promise<void>((next) => setImmediate(next));
    while (this.pending.length > 0) {
      // Hint: at most one batch is committed ahead of the running sync.
      await this.syncedBeforeLast;
      // Hint: the writes asked for meanwhile wait in `pending` (reads go on) and join the batch after it.
      if (this.durability?.walOverBound?.()) await this.durability.emptyWal?.().catch(() => {});
      const batch = this.pending.splice(0);
      const failed = this.failed;
      const outcomes: Outcome[] = failed
        ? batch.map(() => ({ ok: false, error: this.unusable(failed) }))
        : await this.transaction(batch);
      const settle = (synced?: unknown) =>
        batch.forEach((job, i) => {
          const outcome = outcomes[i] as Outcome;
          if (!outcome.ok) job.reject(outcome.error);
          else if (synced !== undefined) job.reject(synced);
          else job.resolve(outcome.value);
        });
      const synced =
        this.durability && outcomes.some((o) => o.ok)
          ? this.synced().then(
              () => settle(),
              (error: unknown) => settle(error),
            )
          : Promise.resolve(settle());
      this.syncedBeforeLast = this.syncedLast;
      this.syncedLast = synced;
      await new Promise<void>((next) => setImmediate(next));
    }
    this.draining = undefined;
  }

  /**
   * Runs `batch` in one transaction; never throws. Hint: the jobs run first without savepoints, since a savepoint
   * keeps an undo copy of every page its job changes (~70 KB per provisioning). Only
   * when a job fails is that transaction rolled back and the batch run again, each job in its own savepoint, so the
   * failing one rolls back alone; a job is a function of the database, so its second run does what its first did.
   */
  private async transaction(batch: Job[]): Promise<Outcome[]> {
    while (this.held) await this.held;
    let release = () => {};
    this.held = new Promise<void>((done) => (release = done));
    try {
      return (await this.attempt(batch, false)) ?? (await this.attempt(batch, true)) ?? [];
    } finally {
      this.held = undefined;
      release();
    }
  }

  /**
   * One run of `batch` in a transaction; undefined when it failed without savepoints and should run with them.
   * Hint: with savepoints each job writes its gathered changes (Query.atCommit) inside its own savepoint, so a
   * failing job's go with it; without, the whole batch's are written once, before the commit.
   */
  private async attempt(batch: Job[], savepoints: boolean): Promise<Outcome[] | undefined> {
    const outcomes: Outcome[] = [];
    this.atCommit.clear();
    try {
      this.endRead();
      this.begin.run();
      for (const job of batch) {
        if (savepoints) this.savepoint.run();
        try {
          const value = await job.fn(this.direct);
          if (savepoints) await this.flushAtCommit();
          if (savepoints) this.release.run();
          outcomes.push({ ok: true, value });
        } catch (error) {
          // Hint: an I/O error or a full disk ends the whole transaction; then every job of the batch fails.
          if (!savepoints || !this.db.inTransaction) throw error;
          this.atCommit.clear();
          this.rollbackTo.run();
          this.release.run();
          outcomes.push({ ok: false, error });
        }
      }
      if (!savepoints) await this.flushAtCommit();
      this.commit.run();
      return outcomes;
    } catch (error) {
      this.atCommit.clear();
      try {
        if (this.db.inTransaction) this.rollback.run();
      } catch {
        // Hint: SQLite rolls a transaction back by itself when it cannot go on; the first error is the one to report.
      }
      // Hint: a job alone in its batch would fail the same way with a savepoint.
      if (!savepoints && batch.length > 1) return undefined;
      return batch.map(() => ({ ok: false, error }));
    }
  }

  async close(): Promise<void> {
    while (this.draining || this.held) await (this.draining ?? this.held);
    // Hint: the last batches may still wait for their syncs; their writers hear before the connection goes.
    await this.syncedBeforeLast;
    await this.syncedLast;
    this.endRead();
    await this.durability?.close?.();
    for (const { statement } of this.statements.values()) statement.finalize();
    this.statements.clear();
    // Hint: with every statement finalized the connection really closes, and as the last one it removes the WAL.
    for (const statement of [
      this.begin,
      this.beginRead,
      this.commit,
      this.rollback,
      this.savepoint,
      this.release,
      this.rollbackTo,
    ])
      statement.finalize();
    this.db.close();
  }
}

/** Opens the SQLite driver on `filename` (`:memory:` for an in-memory database). */
export function sqliteDriver(filename: string): Driver {
  const db =
    filename === ":memory:"
      ? new Database(":memory:")
      : new Database(filename, { create: true, readwrite: true });
  return new SqliteDriver(db);
}
