/** A group's devices page by page, filtered (state, readiness, overdue, expiring, name prefix), and a device's history. */

import { invalidField } from "../../core/errors.ts";
import { isValidName } from "../../core/names.ts";
import type { DeviceHistory } from "../../core/fleet.ts";
import type { DeviceState, DeviceView, Page } from "../../core/wire.ts";
import type { DeviceAfter, DeviceFilter, DeviceOrder } from "../store/fleet-store.ts";
import type { DeviceKey } from "../store/store.ts";
import type { DomainContext } from "./context.ts";
import { requireGroup } from "./groups.ts";
import { deviceView, requireGroupDevice } from "./devices.ts";

/** The filters of a device listing, as the API takes them; they combine. */
export interface DeviceQuery {
  state?: DeviceState;
  online?: boolean;
  /** Only devices whose planned renewal passed more than the overdue slack ago. */
  overdue?: boolean;
  /** Only provisioned devices whose certificate expires before this instant (epoch ms). */
  expiringBefore?: number;
  /** Only names starting with this. */
  prefix?: string;
}

/**
 * The order of a listing: by planned renewal when `overdue`, by expiry when `expiringBefore`, else by name.
 * A cursor is the last item's name, preceded in the timed orders by its time (`<epoch ms>.<name>`).
 */
function orderOf(query: DeviceQuery): DeviceOrder {
  if (query.overdue) return "renewAt";
  return query.expiringBefore !== undefined ? "notAfter" : "name";
}

function decodeCursor(cursor: string | undefined, order: DeviceOrder): DeviceAfter | undefined {
  if (cursor === undefined) return undefined;
  const match = order === "name" ? ["", "", cursor] : /^(\d{1,16})\.(.+)$/.exec(cursor);
  const name = match?.[2] ?? "";
  if (!match || !isValidName(name))
    throw invalidField("cursor", "is not a nextCursor of this listing (its filters changed?)");
  return order === "name" ? { name } : { at: Number(match[1]), name };
}

function encodeCursor(device: DeviceView, order: DeviceOrder): string {
  const at = order === "renewAt" ? device.renewAt : order === "notAfter" ? device.notAfter : null;
  return at === null ? device.name : `${Date.parse(at)}.${device.name}`;
}

/** One page of a group's devices matching `query`; pass `nextCursor` back for the next page. */
export async function listDevices(
  ctx: DomainContext,
  tenant: string,
  group: string,
  page: {
    limit: number;
    cursor?: string | undefined;
    query?: DeviceQuery;
    overdueSlackSeconds: number;
  },
): Promise<Page<DeviceView>> {
  await requireGroup(ctx, tenant, group);
  const query = page.query ?? {};
  const order = orderOf(query);
  const filter: DeviceFilter = {};
  if (query.state !== undefined) filter.state = query.state;
  if (query.online !== undefined) filter.online = query.online;
  if (query.overdue) filter.renewBefore = ctx.now() - page.overdueSlackSeconds * 1000;
  if (query.expiringBefore !== undefined) filter.expiringBefore = query.expiringBefore;
  if (query.prefix !== undefined) filter.prefix = query.prefix;
  const after = decodeCursor(page.cursor, order);
  const rows = await ctx.store.filterDevices(tenant, group, filter, order, page.limit + 1, after);
  const items = rows.slice(0, page.limit).map(deviceView);
  const result: Page<DeviceView> = { items };
  const last = items[items.length - 1];
  if (rows.length > page.limit && last) result.nextCursor = encodeCursor(last, order);
  return result;
}

/** What happened to a device since it was created, oldest first; 404 when there is no such device. */
export async function deviceHistory(ctx: DomainContext, key: DeviceKey): Promise<DeviceHistory> {
  await requireGroupDevice(ctx, key);
  const events = await ctx.store.deviceHistory(key);
  return {
    items: events.map((e) => ({
      at: new Date(e.at).toISOString(),
      event: e.event,
      serial: e.serial,
    })),
  };
}
