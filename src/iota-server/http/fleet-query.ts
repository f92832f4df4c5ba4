/** The query parameters of device listings and fleet summaries, checked: a bad value is a 400 naming it. */

import { invalidField } from "../../core/errors.ts";
import type { DeviceState } from "../../core/wire.ts";
import type { DeviceQuery } from "../domain/device-pages.ts";

/** Largest page of a listing. */
export const MAX_PAGE = 1000;

const STATES: readonly DeviceState[] = ["created", "provisioned", "revoked"];

/** Query parameters by name (hono's `c.req.query()`). */
type Params = Record<string, string | undefined>;

/**
 * Each query parameter's one value (hono's `c.req.queries()`); a parameter given twice is a 400 naming it, as
 * a listing takes one value of each and would otherwise drop the others unseen.
 */
export function singleParams(all: Record<string, string[]>): Params {
  const params: Params = {};
  for (const [name, values] of Object.entries(all)) {
    if (values.length > 1) throw invalidField(name, "is given more than once; give it once");
    params[name] = values[0];
  }
  return params;
}

/** `?limit=` as 1..MAX_PAGE, 100 when absent. */
export function limitParam(value: string | undefined): number {
  if (value === undefined) return 100;
  const limit = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE)
    throw invalidField("limit", `must be a whole number from 1 to ${MAX_PAGE}`);
  return limit;
}

/** A boolean parameter: `true` or `false`. */
function booleanParam(name: string, value: string): boolean {
  if (value === "true") return true;
  if (value === "false") return false;
  throw invalidField(name, "must be true or false");
}

/** The filters of `GET /v1/groups/{group}/devices`. */
export function deviceQuery(params: Params): DeviceQuery {
  const query: DeviceQuery = {};
  const { state, online, overdue, expiringBefore, q } = params;
  if (state !== undefined) {
    if (!STATES.includes(state as DeviceState))
      throw invalidField("state", `must be one of ${STATES.join(", ")}`);
    query.state = state as DeviceState;
  }
  if (online !== undefined) query.online = booleanParam("online", online);
  if (overdue !== undefined) {
    if (overdue !== "true")
      throw invalidField("overdue", "must be true (leave it out to list every device)");
    query.overdue = true;
  }
  if (expiringBefore !== undefined) {
    const at = /^\d{4}-\d{2}-\d{2}T/.test(expiringBefore) ? Date.parse(expiringBefore) : Number.NaN;
    if (!Number.isFinite(at) || at < 0)
      throw invalidField("expiringBefore", "must be an ISO 8601 time, e.g. 2026-12-01T00:00:00Z");
    query.expiringBefore = at;
  }
  if (q !== undefined) {
    if (!/^[a-z0-9-]{1,63}$/.test(q))
      throw invalidField("q", "must be the start of a name: 1-63 of a-z, 0-9 and -");
    query.prefix = q;
  }
  return query;
}
