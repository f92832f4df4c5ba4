/** Bulk device creation: names split into batches for `POST /v1/groups/{g}/devices`, results added up. */

import type { BulkCreateResult } from "../core/wire.ts";
import type { ApiClient } from "./client.ts";
import { CliError, isCliError } from "./exit-codes.ts";

/** Names per request: well under the API's 100,000, so one slow batch never looks like a hang. */
export const DEFAULT_BATCH_SIZE = 10_000;
/** Request body budget per batch; the service accepts 2 MiB on this route, long invalid lines count too. */
export const BATCH_MAX_BYTES = 1024 * 1024;

/** What a bulk creation did, added over all batches. */
export interface BulkSummary {
  /** Names in the request after removing repeats. */
  total: number;
  /** Names sent so far: `total` unless the run was stopped. */
  done: number;
  created: number;
  existing: number;
  invalid: BulkCreateResult["invalid"];
}

/** Splits `names` into batches of at most `size` names and about `maxBytes` of JSON each. */
export function batches(names: string[], size: number, maxBytes = BATCH_MAX_BYTES): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let bytes = 0;
  for (const name of names) {
    const cost = Buffer.byteLength(JSON.stringify(name)) + 1;
    if (current.length > 0 && (current.length >= size || bytes + cost > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(name);
    bytes += cost;
  }
  if (current.length > 0) out.push(current);
  return out;
}

/**
 * Creates `names` in `group` batch by batch, calling `progress(done, total)` after each.
 * Re-running with the same names is safe: existing devices are counted, not recreated.
 * A failing batch stops the run with the error, saying how far it got; once `stopRequested()` is true
 * no further batch is sent and the summary so far is returned (its `done` below `total`).
 */
export async function createInBatches(
  client: ApiClient,
  group: string,
  names: string[],
  size: number,
  progress: (done: number, total: number) => void,
  stopRequested: () => boolean = () => false,
): Promise<BulkSummary> {
  const summary: BulkSummary = {
    total: names.length,
    done: 0,
    created: 0,
    existing: 0,
    invalid: [],
  };
  let done = 0;
  progress(0, names.length);
  for (const batch of batches(names, size)) {
    if (stopRequested()) break;
    let result: BulkCreateResult;
    try {
      result = await client.createDevices(group, batch, stopRequested);
    } catch (error) {
      // Hint: a stop asked for while the batch waited to be sent again: its outcome is unknown, and the same
      // command again reports its names as created or existing, so the run ends as any other stop does.
      if (stopRequested() && isCliError(error)) break;
      if (done === 0 || !isCliError(error)) throw error;
      throw new CliError(
        error.exitCode,
        `${error.message} (stopped after ${done} of ${names.length} names; run the same command again to continue: existing devices are skipped)`,
      );
    }
    summary.created += result.created.length;
    summary.existing += result.existing.length;
    summary.invalid.push(...result.invalid);
    done += batch.length;
    summary.done = done;
    progress(done, names.length);
  }
  return summary;
}
