/** A device's history in SQL: its certificates and the operator's actions, merged oldest first. */

import type { DeviceEvent } from "./fleet-store.ts";
import type { DeviceKey } from "./store.ts";
import type { Query } from "./sql-driver.ts";
import { num, type Row } from "./rows.ts";

/**
 * A device's history since it was created: its certificates (provisioned or renewed) and the operator's revocations
 * and resets, oldest first. Hint: certificates recorded before migration 4 carry no kind; the first one after the
 * creation or a reset counts as provisioned, the others as renewed.
 */
export async function deviceHistory(sql: Query, k: DeviceKey): Promise<DeviceEvent[]> {
  const [device] =
    await sql`select created_at from devices where tenant_id = ${k.tenantId} and group_name = ${k.group} and name = ${k.name}`;
  if (!device) return [];
  const since = num(device.created_at);
  const certificates = await sql`select serial, issued_at, kind from certificates
    where tenant_id = ${k.tenantId} and group_name = ${k.group} and device = ${k.name} and issued_at >= ${since}`;
  const operator = await sql`select at, event, serial from device_events
    where tenant_id = ${k.tenantId} and group_name = ${k.group} and device = ${k.name} and at >= ${since}`;
  const ORDER = { created: 0, reset: 1, revoked: 2, provisioned: 3, renewed: 4 } as const;
  const merged: (DeviceEvent & { kind?: unknown })[] = [
    { at: since, event: "created", serial: null },
    ...operator.map((r: Row) => ({
      at: num(r.at),
      event: String(r.event) as "revoked" | "reset",
      serial: r.serial === null ? null : String(r.serial),
    })),
    ...certificates.map((r: Row) => ({
      at: num(r.issued_at),
      event: (r.kind === "renew" ? "renewed" : "provisioned") as DeviceEvent["event"],
      serial: String(r.serial),
      kind: r.kind,
    })),
  ];
  merged.sort((a, b) => a.at - b.at || ORDER[a.event] - ORDER[b.event]);
  let holding = false;
  return merged.map(({ kind, ...event }) => {
    if (event.event === "provisioned" || event.event === "renewed") {
      if (kind === null || kind === undefined) event.event = holding ? "renewed" : "provisioned";
      holding = true;
    } else holding = false;
    return event;
  });
}
