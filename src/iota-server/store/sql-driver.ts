/**
 * The store's per-dialect executor: one tagged-template SQL text, run by `Bun.SQL` on PostgreSQL and by
 * `bun:sqlite` with cached prepared statements on SQLite (Bun.SQL prepares every SQLite query anew).
 */

import { SQL } from "bun";
import type { Dialect } from "./migrations.ts";
import type { Row } from "./rows.ts";
import type { Durability } from "./sqlite-driver.ts";

export { sqliteDriver, type Durability } from "./sqlite-driver.ts";

/** Changes a transaction gathers in memory and writes in one go just before it commits. */
export interface AtCommit {
  /** Writes what was gathered, and forgets it. */
  flush(tx: Query): Promise<void>;
}

/** Runs one statement: as a tagged template, or as text with `$1`..`$n` parameters. */
export interface Query {
  (strings: TemplateStringsArray, ...values: unknown[]): Promise<Row[]>;
  unsafe(text: string, params?: unknown[]): Promise<Row[]>;
  /**
   * The transaction's {@link AtCommit} for `key`, made by `create` on first use and flushed in the transaction
   * just before it commits (so it commits with the rest, or not at all). On SQLite one serves every write of a
   * group-commit batch. Absent outside transactions and on PostgreSQL, where writers take shared rows in one
   * lock order as they go and so write their changes at once.
   */
  atCommit?<T extends AtCommit>(key: symbol, create: () => T): T;
}

/** A database connection as the store sees it. */
export interface Driver {
  readonly dialect: Dialect;
  /** A statement outside any transaction. */
  readonly query: Query;
  /**
   * A writing transaction. Hint: on SQLite it begins IMMEDIATE, taking the write lock up front, so a second
   * process on the same file waits (busy_timeout) instead of failing when a read lock cannot be upgraded.
   */
  write<T>(fn: (tx: Query) => Promise<T>): Promise<T>;
  /**
   * From now on, answers every write only once `durability` made it durable (SQLite's group commit);
   * absent where every commit is durable already (PostgreSQL).
   */
  useDurability?(durability: Durability): void;
  close(): Promise<void>;
}

/** The PostgreSQL driver: Bun.SQL's pool, which prepares and caches statements itself. */
export function postgresDriver(url: string): Driver {
  const sql = new SQL(url, { max: 10 });
  const wrap = (s: SQL): Query =>
    Object.assign(
      (strings: TemplateStringsArray, ...values: unknown[]) =>
        s(strings, ...values) as Promise<Row[]>,
      {
        unsafe: (text: string, params?: unknown[]) => s.unsafe(text, params) as Promise<Row[]>,
      },
    );
  return {
    dialect: "postgres",
    query: wrap(sql),
    write: async <T>(fn: (tx: Query) => Promise<T>) =>
      (await sql.begin("read write", (tx) => fn(wrap(tx)))) as T,
    close: () => sql.close(),
  };
}
