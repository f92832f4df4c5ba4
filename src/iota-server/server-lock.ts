/**
 * One iota-server per data folder and per SQLite file (the README's rule, enforced). A second server beside a
 * running one would split one SQLite file's group commit and checkpoints between two processes, count the
 * per-address and failure limits twice as loosely, and record device readiness twice; it is refused instead.
 * `DIR/iota-server.lock` (and `FILE.lock` beside a SQLite file kept outside the data folder) is held from before
 * the database opens until the server stops; a lock left by a process that is gone is taken over.
 * `rotate-admin-token` runs beside the service and takes no lock.
 */

import { dirname, join, resolve } from "node:path";
import { type LockHost, nodeLockHost } from "../core/lock-host.ts";
import { acquireLock, describeHolder, type ProcessLock } from "../core/process-lock.ts";
import type { ServerConfig } from "./config.ts";
import { cannotStart } from "./exit.ts";
import type { Logger } from "./log.ts";
import { sqliteFileOf } from "./store/group-commit.ts";
import { redactUrl } from "./store/database-url.ts";

/** The lock's file name in the data folder. */
const SERVER_LOCK_FILE = "iota-server.lock";

/** The locks of a started server, released together. */
export interface ServerLock {
  release(): void;
}

/** The lock files a server on `options` holds: its data folder's, and its SQLite file's when that lies elsewhere. */
function serverLockPaths(options: Pick<ServerConfig, "data" | "db">): string[] {
  const paths = [join(options.data, SERVER_LOCK_FILE)];
  const file = sqliteFileOf(options.db);
  if (file !== undefined && resolve(dirname(file)) !== resolve(options.data))
    paths.push(`${resolve(file)}.lock`);
  return paths;
}

/**
 * Takes every lock of a server on `options` (the data folder must exist), or throws exit 3 naming the server
 * that holds one and what to do, holding none. The record names the data folder, database and address, never
 * a secret.
 */
export function lockServer(
  options: Pick<ServerConfig, "data" | "db" | "listen">,
  now: number,
  log: Logger,
  host: LockHost = nodeLockHost(),
): ServerLock {
  const command = `iota-server --data ${options.data} --db ${redactUrl(options.db)} --listen ${options.listen.host}:${options.listen.port}`;
  const held: ProcessLock[] = [];
  const release = () => {
    for (const lock of held.splice(0).reverse()) {
      try {
        lock.release();
      } catch (error) {
        // Hint: a lock left behind names this pid, which will be gone: the next start takes it over.
        log.error(`cannot remove a lock of the data folder: ${(error as Error).message}`);
      }
    }
  };
  for (const [index, path] of serverLockPaths(options).entries()) {
    let taken: ReturnType<typeof acquireLock>;
    try {
      taken = acquireLock(path, command, now, host);
    } catch (error) {
      release();
      throw cannotStart(
        `cannot take the lock ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; iota-server keeps it beside its data while it runs`,
      );
    }
    if (!taken.ok) {
      release();
      const what =
        index === 0 ? `data folder ${options.data}` : `database ${redactUrl(options.db)}`;
      throw cannotStart(
        `${what} is in use by another iota-server, ${describeHolder(taken.holder)}; one server at a time may use it: stop that one first, or give this one a data folder and database of its own (--data, --db)`,
      );
    }
    if (taken.tookOver !== undefined) {
      const { holder, why } = taken.tookOver;
      log.info(
        `${path}: took over the lock${holder === undefined ? "" : ` of ${describeHolder(holder)}`}: ${why}`,
      );
    }
    held.push(taken.lock);
  }
  return { release };
}
