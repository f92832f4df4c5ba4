/**
 * The readiness probe, `GET /readyz`: whether this process's database answers now. `/healthz` says only that the
 * process answers, so a balancer on it keeps a replica whose own path to the database broke; one on `/readyz`
 * takes that replica out of rotation until its database answers again.
 */

import { settleWithin } from "../../core/deadline.ts";
import type { Store } from "../store/store.ts";

/** How long the probe waits for the database: a trivial query that a live database answers in milliseconds. */
export const READY_DEADLINE_MS = 2_000;

/** True when the store's database answered a trivial query within `ms`; false on an error or no answer. */
export async function databaseAnswers(
  store: Pick<Store, "answers">,
  ms = READY_DEADLINE_MS,
): Promise<boolean> {
  const answered = store.answers().then(
    () => true,
    () => false,
  );
  return await settleWithin(answered, ms, () => false);
}
