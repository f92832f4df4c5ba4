/**
 * The store's per-dialect executor: one tagged-template SQL text, run by `Bun.SQL` on PostgreSQL and by
 * `bun:sqlite` with cached prepared statements on SQLite (Bun.SQL prepares every SQLite query anew).
 */

import { SQL } from "bun";
import { AnswerWatch, ANSWER_DEADLINE_MS, CHECK_DEADLINE_MS } from "./answer-watch.ts";
import { postgresTls } from "./database-url.ts";
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
  /**
   * From now on, fails a statement (and its transaction) the database stops answering, with the code
   * `IOTA_DATABASE_NO_ANSWER` (answer-watch.ts); absent where the database is a file of this process (SQLite).
   * Hint: called once the schema is migrated, so a long migration at start is not cut short.
   */
  watchAnswers?(deadlineMs?: number, checkMs?: number): void;
  close(): Promise<void>;
}

/** How long closing the PostgreSQL pool waits for statements still waiting, in seconds. */
const CLOSE_WAIT_SECONDS = 5;

/**
 * The PostgreSQL driver: Bun.SQL's pool, which prepares and caches statements itself, over TLS with the
 * server's certificate verified when it is across a network and the URL names no mode (database-url.ts). Once {@link
 * Driver.watchAnswers} was called, every statement goes through an {@link AnswerWatch}, whose check is a
 * `select 1` on a one-connection client of its own: the pool's connections may all be held by statements
 * that wait for a database cut off by the network.
 */
export function postgresDriver(url: string): Driver {
  const tls = postgresTls(url);
  const client = (max: number) => new SQL(url, tls ? { max, tls: { ...tls } } : { max });
  const sql = client(10);
  let checker: SQL | undefined;
  let watch: AnswerWatch | undefined;
  const wrap = (s: SQL, gate: <T>(statement: PromiseLike<T>) => Promise<T>): Query =>
    Object.assign(
      (strings: TemplateStringsArray, ...values: unknown[]) =>
        gate(s(strings, ...values) as PromiseLike<Row[]>),
      {
        unsafe: (text: string, params?: unknown[]) =>
          gate(s.unsafe(text, params) as PromiseLike<Row[]>),
      },
    );
  const direct = <T>(statement: PromiseLike<T>) => Promise.resolve(statement);
  return {
    dialect: "postgres",
    query: wrap(sql, (statement) => (watch ? watch.statement(statement) : direct(statement))),
    write: async <T>(fn: (tx: Query) => Promise<T>) => {
      if (!watch) return (await sql.begin("read write", (tx) => fn(wrap(tx, direct)))) as T;
      return await watch.transaction(
        (gate) => sql.begin("read write", (tx) => fn(wrap(tx, gate))) as Promise<T>,
      );
    },
    watchAnswers(deadlineMs = ANSWER_DEADLINE_MS, checkMs = CHECK_DEADLINE_MS) {
      // Hint: connected now, so the first check does not also have to log in within checkMs.
      const open = () => {
        const fresh = client(1);
        fresh.connect().catch(() => {});
        return fresh;
      };
      checker ??= open();
      const check = async () => {
        checker ??= open();
        try {
          await checker`select 1`;
        } catch (error) {
          // Hint: an error of the server's own (too many connections, say) is an answer: the database is there.
          if ((error as { code?: unknown }).code !== "ERR_POSTGRES_SERVER_ERROR") throw error;
        }
      };
      // Hint: a check that got no answer may sit on a dead connection, and the next check would wait behind it.
      const checkFailed = () => {
        void checker?.close({ timeout: 0 }).catch(() => {});
        checker = open();
      };
      watch = new AnswerWatch({ deadlineMs, checkMs, check, checkFailed });
    },
    // Hint: Bun.SQL's close waits for every statement still waiting, for ever on a database cut off by the
    // network; the service stops after its requests drained, so what is still waiting then gets a few seconds.
    close: async () => {
      await Promise.all([
        sql.close({ timeout: CLOSE_WAIT_SECONDS }),
        checker?.close({ timeout: 0 }),
      ]);
    },
  };
}
