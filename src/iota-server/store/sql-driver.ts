/**
 * The store's per-dialect executor: one tagged-template SQL text, run by `Bun.SQL` on PostgreSQL and by
 * `bun:sqlite` with cached prepared statements on SQLite (Bun.SQL prepares every SQLite query anew).
 */

import { SQL } from "bun";
import { Database, type Statement } from "bun:sqlite";
import type { Dialect } from "./migrations.ts";
import type { Row } from "./rows.ts";

/** Runs one statement: as a tagged template, or as text with `$1`..`$n` parameters. */
export interface Query {
  (strings: TemplateStringsArray, ...values: unknown[]): Promise<Row[]>;
  unsafe(text: string, params?: unknown[]): Promise<Row[]>;
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

/**
 * `strings` joined with SQLite's numbered placeholders `?1`..`?n`. Hint: not `$n`, which SQLite treats as
 * named parameters and looks up linearly, so preparing a 25,000-parameter bulk insert would take seconds.
 */
function placeholders(strings: TemplateStringsArray): string {
  let text = strings[0] ?? "";
  for (let i = 1; i < strings.length; i++) text += `?${i}${strings[i]}`;
  return text;
}

/** PostgreSQL-style `$n` parameters in `text` as SQLite's `?n` (the store's SQL has no `$` elsewhere). */
const numbered = (text: string) => text.replace(/\$(\d+)/g, "?$1");

/** bun:sqlite rejects `undefined`; Bun.SQL binds it as NULL. */
const bindable = (values: unknown[]) => values.map((v) => (v === undefined ? null : v)) as never[];

/**
 * The SQLite driver: one connection, each call site's statement prepared once (keyed by its template
 * strings, which JavaScript keeps identical per call site). While a transaction is open, statements from
 * other requests wait for it, as they would for Bun.SQL's single reserved connection.
 */
class SqliteDriver implements Driver {
  readonly dialect = "sqlite" as const;
  private readonly statements = new WeakMap<TemplateStringsArray, Statement>();
  /** Settles when the open transaction ends; undefined when none is open. */
  private held: Promise<void> | undefined;

  private readonly begin: Statement;
  private readonly commit: Statement;
  private readonly rollback: Statement;

  constructor(private readonly db: Database) {
    this.begin = db.prepare("BEGIN IMMEDIATE");
    this.commit = db.prepare("COMMIT");
    this.rollback = db.prepare("ROLLBACK");
  }

  private run(strings: TemplateStringsArray, values: unknown[]): Row[] {
    let statement = this.statements.get(strings);
    if (!statement) {
      statement = this.db.prepare(placeholders(strings));
      this.statements.set(strings, statement);
    }
    return statement.all(...bindable(values)) as Row[];
  }

  private runText(text: string, params: unknown[] = []): Row[] {
    const statement = this.db.prepare(numbered(text));
    try {
      return statement.all(...bindable(params)) as Row[];
    } finally {
      statement.finalize();
    }
  }

  private readonly direct: Query = Object.assign(
    async (strings: TemplateStringsArray, ...values: unknown[]) => this.run(strings, values),
    {
      unsafe: async (text: string, params?: unknown[]) => this.runText(text, params),
    },
  );

  readonly query: Query = Object.assign(
    async (strings: TemplateStringsArray, ...values: unknown[]) => {
      while (this.held) await this.held;
      return this.run(strings, values);
    },
    {
      unsafe: async (text: string, params?: unknown[]) => {
        while (this.held) await this.held;
        return this.runText(text, params);
      },
    },
  );

  async write<T>(fn: (tx: Query) => Promise<T>): Promise<T> {
    while (this.held) await this.held;
    let release = () => {};
    this.held = new Promise<void>((done) => (release = done));
    try {
      this.begin.run();
      let result: T;
      try {
        result = await fn(this.direct);
        this.commit.run();
      } catch (error) {
        if (this.db.inTransaction) this.rollback.run();
        throw error;
      }
      return result;
    } finally {
      this.held = undefined;
      release();
    }
  }

  async close(): Promise<void> {
    while (this.held) await this.held;
    for (const statement of [this.begin, this.commit, this.rollback]) statement.finalize();
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
