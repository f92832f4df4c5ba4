/** Device operations: create one or many, show, delete, revoke, reset (pages and history: device-pages.ts). */

import { IotaError } from "../../core/errors.ts";
import { x509 } from "../../core/x509.ts";
import { nameProblem, NAME_RULE } from "../../core/names.ts";
import type { BulkCreateResult, DeviceView } from "../../core/wire.ts";
import type { DeviceKey, DeviceRecord } from "../store/store.ts";
import type { DomainContext } from "./context.ts";
import { requireGroup } from "./groups.ts";

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The public view of a device record. */
export function deviceView(d: DeviceRecord): DeviceView {
  return {
    group: d.group,
    name: d.name,
    state: d.state,
    serial: d.serial,
    notBefore: isoOrNull(d.notBefore),
    notAfter: isoOrNull(d.notAfter),
    provisionedAt: isoOrNull(d.provisionedAt),
    lastRenewal: isoOrNull(d.lastRenewal),
    createdAt: new Date(d.createdAt).toISOString(),
    renewAt: isoOrNull(d.renewAt),
    online: d.online,
    seenAt: isoOrNull(d.seenAt),
    enrolledAt: isoOrNull(d.enrolledAt),
  };
}

/**
 * Creates one device; 409 when it exists. With `creationKey` (the client's Idempotency-Key) the key is kept with
 * the device, and the same key sent again within a day answers 201 with the device (`replayed`) instead of 409: a client
 * whose answer was lost (a connection reset, a timeout) can send its creation again without learning "exists"
 * of the device it made itself.
 */
export async function createDevice(
  ctx: DomainContext,
  tenant: string,
  group: string,
  name: string,
  creationKey?: string,
): Promise<{ device: DeviceView; replayed: boolean }> {
  await requireGroup(ctx, tenant, group);
  const key: DeviceKey = { tenantId: tenant, group, name };
  const made = await ctx.store.createDevice(key, ctx.now(), creationKey);
  if (made === "exists")
    throw new IotaError(
      "conflict",
      `Device ${JSON.stringify(name)} already exists in group ${JSON.stringify(group)}`,
    );
  return { device: deviceView(await requireDevice(ctx, key)), replayed: made === "replayed" };
}

/**
 * Creates many devices in one transaction. Each name is reported once: created, already existing,
 * or invalid with its reason. Duplicates within the request count once.
 */
export async function createDevices(
  ctx: DomainContext,
  tenant: string,
  group: string,
  names: string[],
): Promise<BulkCreateResult> {
  await requireGroup(ctx, tenant, group);
  const invalid: BulkCreateResult["invalid"] = [];
  const valid = new Set<string>();
  for (const name of names) {
    const problem = nameProblem(name);
    if (problem) invalid.push({ name, reason: `${problem}; names are ${NAME_RULE}` });
    else valid.add(name);
  }
  const candidates = [...valid];
  const created = await ctx.store.insertDevices(tenant, group, candidates, ctx.now());
  const createdSet = new Set(created);
  return { created, existing: candidates.filter((n) => !createdSet.has(n)), invalid };
}

/** A device's view; 404 naming the group or the device (see {@link requireGroupDevice}). */
export async function getDevice(ctx: DomainContext, key: DeviceKey): Promise<DeviceView> {
  return deviceView(await requireGroupDevice(ctx, key));
}

/**
 * The device an operator's call on one device names. Hint: the group is asked for first, so a wrong group is a
 * 404 naming the group, never one blaming a device of a group that does not exist.
 */
export async function requireGroupDevice(
  ctx: DomainContext,
  key: DeviceKey,
): Promise<DeviceRecord> {
  await requireGroup(ctx, key.tenantId, key.group);
  return await requireDevice(ctx, key);
}

/** A device record; 404 naming the device when it does not exist. */
export async function requireDevice(ctx: DomainContext, key: DeviceKey): Promise<DeviceRecord> {
  const device = await ctx.store.getDevice(key);
  if (!device)
    throw new IotaError(
      "not-found",
      `No device named ${JSON.stringify(key.name)} in group ${JSON.stringify(key.group)}`,
    );
  return device;
}

/**
 * Deletes a device and revokes its live certificates. The key it held (or still had to prove after a reset) is
 * kept for its name: a device created again under that name must prove it, as after a reset, so a stolen device
 * token does not come back to life with the name (`reset --forget-key` drops the requirement).
 */
export async function deleteDevice(ctx: DomainContext, key: DeviceKey): Promise<void> {
  await requireGroup(ctx, key.tenantId, key.group);
  const device = await ctx.store.getDevice(key);
  const held = device?.certificate ? certificateKey(device.certificate) : device?.recoveryKey;
  if (!(await ctx.store.deleteDevice(key, ctx.now(), held ?? undefined)))
    await requireDevice(ctx, key);
}

/** Revokes a device: it can neither renew nor provision again until reset; its certificates go on the CRL. */
export async function revokeDevice(ctx: DomainContext, key: DeviceKey): Promise<DeviceView> {
  await requireGroupDevice(ctx, key);
  await ctx.store.revokeDevice(key, ctx.now());
  return deviceView(await requireDevice(ctx, key));
}

/**
 * Resets a device to `created` so it may provision again (with a new key); its certificates are revoked.
 * The key it held is recorded: to provision again the device must prove it still holds that key (iotad does
 * so by itself), so a stolen device token alone cannot take the device over. `forgetKey` drops that
 * requirement, for a device that lost its key (then its token alone provisions it).
 */
export async function resetDevice(
  ctx: DomainContext,
  key: DeviceKey,
  options: { forgetKey: boolean },
): Promise<DeviceView> {
  const device = await requireGroupDevice(ctx, key);
  const held = device.certificate ? certificateKey(device.certificate) : undefined;
  await ctx.store.resetDevice(key, ctx.now(), options.forgetKey ? null : held);
  return deviceView(await requireDevice(ctx, key));
}

/** The SubjectPublicKeyInfo (DER, base64) of a stored PEM certificate. */
function certificateKey(pem: string): string {
  return Buffer.from(new x509.X509Certificate(pem).publicKey.rawData).toString("base64");
}
