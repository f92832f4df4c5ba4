/**
 * `iota-server rotate-admin-token`: every admin token of the default tenant replaced by a new one, written to the
 * data folder's admin-token file. It runs beside a running service (which reads tokens from the database on
 * every request), and against the shared database of replicas.
 */

import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { storeLocation } from "./config.ts";
import { adminTokenPath, ensureDataDir, stageSecretFile } from "./data-dir.ts";
import { cannotStart, usageError } from "./exit.ts";
import { openStore } from "./store/sql-store.ts";
import { redactUrl } from "./store/database-url.ts";
import { durableStore, sqliteFileOf } from "./store/group-commit.ts";
import { DEFAULT_TENANT, hashAdminToken, newAdminToken } from "./domain/tenants.ts";

export const ROTATE_USAGE = `Usage: iota-server rotate-admin-token [--data DIR] [--db URL]

Replaces every admin token of the service with a new one, written to DIR/admin-token (0600):
the answer to a leaked token. Earlier tokens stop working at once, also on a running service
and on every replica of a shared PostgreSQL database; the server CA, the tenants' CAs, groups
and devices are not touched. Configure iotactl again with the new token afterwards:
  iotactl configure --server https://HOST:8440 --token-file DIR/admin-token

Options (each also read from the environment variable in brackets):
  --data DIR   data folder of the service (IOTA_DATA; default ./.iota)
  --db URL     its database (IOTA_DB; default sqlite:DIR/iota.db)
  -h, --help   show this help

Exit status: 0 rotated; 2 a wrong flag; 3 not rotated: no database, no tenant yet, the database
refused the change or the file cannot be written (the old tokens still work); 3 too when the
database changed but DIR/admin-token could not be replaced (the message names the file that
holds the new token).
`;

/** The command line of `rotate-admin-token`: the data folder and database, or "help". */
export function parseRotateConfig(
  argv: string[],
  env: Record<string, string | undefined>,
): { data: string; db: string } | "help" {
  let values: { data?: string | undefined; db?: string | undefined; help?: boolean | undefined };
  try {
    values = parseArgs({
      args: argv,
      options: {
        data: { type: "string" },
        db: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      allowPositionals: false,
      strict: true,
    }).values;
  } catch (error) {
    throw usageError(`rotate-admin-token: ${(error as Error).message}`);
  }
  if (values.help) return "help";
  return storeLocation(values, env);
}

/** What a rotation did: the file holding the new token, and how many tokens stopped working. */
export interface Rotation {
  tokenPath: string;
  replaced: number;
}

/**
 * Replaces the default tenant's admin tokens. The new token's file is written beside its place first, then the
 * database changes durably, then the file takes its place: a failure before the database changed leaves the old
 * tokens working and the old file as it was; a failure after it names the file that holds the new token.
 */
export async function rotateAdminToken(
  config: { data: string; db: string },
  now: number,
): Promise<Rotation> {
  const tokenPath = adminTokenPath(config.data);
  const shown = redactUrl(config.db);
  const file = sqliteFileOf(config.db);
  // Hint: opening a SQLite path creates a database there; a mistyped --data must not leave one behind.
  if (file !== undefined && !existsSync(file))
    throw cannotStart(`there is no database at ${file}: give the service's --data (or --db)`);
  // Hint: the same checks as at start: a secret is never written into a folder others may write to.
  ensureDataDir(config.data);
  // Hint: durable as the service's own writes are: the WAL is synced before the change is reported. A database
  // that does not open is a StartupError naming it, without its password.
  const store = durableStore(await openStore(config.db, { fleetReads: false }), config.db);
  try {
    if (!(await store.getTenant(DEFAULT_TENANT)))
      throw cannotStart(
        `the database ${shown} has no tenant yet: start iota-server once, which creates it with its first admin token`,
      );
    const token = newAdminToken();
    let staged: ReturnType<typeof stageSecretFile>;
    try {
      staged = stageSecretFile(tokenPath, `${token}\n`);
    } catch (error) {
      throw cannotStart(`cannot write ${tokenPath}: ${(error as Error).message}`);
    }
    let replaced: number;
    try {
      replaced = await store.replaceAdminTokens(DEFAULT_TENANT, hashAdminToken(token), now);
    } catch (error) {
      staged.discard();
      throw cannotStart(
        `cannot replace the admin tokens in ${shown}: ${(error as Error).message}; the old token still works`,
      );
    }
    try {
      staged.commit();
    } catch (error) {
      // Hint: the database changed, so the staged file holds the only working token: say where it is.
      throw cannotStart(
        `the admin tokens were replaced, but ${tokenPath} could not take the new one (${(error as Error).message}); it is in ${staged.path} (0600): move it there`,
      );
    }
    return { tokenPath, replaced };
  } finally {
    await store.close();
  }
}
