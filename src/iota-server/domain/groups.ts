/** Group operations: create with a provisioning secret and an enrollment, list, show, rotate the secret, delete. */

import { IotaError, invalidField } from "../../core/errors.ts";
import { newProvisioningSecret, secretCheck } from "../../core/token.ts";
import { DEFAULT_GRACE_SECONDS, DEFAULT_VALIDITY_SECONDS } from "../../core/profile.ts";
import type { CreateGroupBody, GroupView, GroupWithSecret } from "../../core/wire.ts";
import { changeEnrollment, REGISTERED } from "../../core/enrollment.ts";
import type { GroupRecord } from "../store/store.ts";
import { secretContext, type DomainContext } from "./context.ts";

const iso = (ms: number) => new Date(ms).toISOString();

/** The public view of a group record. */
export function groupView(g: GroupRecord, deviceCount?: number): GroupView {
  const view: GroupView = {
    name: g.name,
    validity: g.validity,
    renewGrace: g.grace,
    createdAt: iso(g.createdAt),
    secretRotatedAt: iso(g.secretRotatedAt),
    enrollment: g.enrollment,
  };
  if (g.enrollment === "any") {
    view.namePattern = g.namePattern;
    view.enrollPerHour = g.enrollPerHour;
  }
  if (deviceCount !== undefined) view.deviceCount = deviceCount;
  return view;
}

/** Creates a group; 409 when the name is taken. The secret is in this answer only. */
export async function createGroup(
  ctx: DomainContext,
  tenant: string,
  body: CreateGroupBody,
): Promise<GroupWithSecret> {
  const enrollment = changeEnrollment(REGISTERED, body);
  if (!enrollment.ok) throw invalidField(enrollment.field, enrollment.message);
  const now = ctx.now();
  const secret = newProvisioningSecret();
  const record: GroupRecord = {
    ...enrollment.enrollment,
    tenantId: tenant,
    name: body.name,
    secretSealed: ctx.sealer.seal(secret, secretContext(tenant, body.name)),
    validity: body.validity ?? DEFAULT_VALIDITY_SECONDS,
    grace: body.renewGrace ?? DEFAULT_GRACE_SECONDS,
    createdAt: now,
    secretRotatedAt: now,
  };
  if (!(await ctx.store.insertGroup(record))) {
    throw new IotaError("conflict", `A group named ${JSON.stringify(body.name)} already exists`);
  }
  return { ...groupView(record, 0), provisioningSecret: secret };
}

/** A group record; 404 naming the group when it does not exist. */
export async function requireGroup(
  ctx: DomainContext,
  tenant: string,
  name: string,
): Promise<GroupRecord> {
  const group = await ctx.store.getGroup(tenant, name);
  if (!group) throw new IotaError("not-found", `No group named ${JSON.stringify(name)}`);
  return group;
}

/** The plaintext provisioning secret of a group (opened once per sealed value, then remembered). */
export function groupSecret(ctx: DomainContext, group: GroupRecord): string {
  return ctx.sealer.openCached(group.secretSealed, secretContext(group.tenantId, group.name));
}

/** Every group of a tenant with its device count. */
export async function listGroups(ctx: DomainContext, tenant: string): Promise<GroupView[]> {
  return (await ctx.store.listGroups(tenant)).map((g) => groupView(g, g.deviceCount));
}

/** One group with its device count and the check of its current secret (`iotactl gen config` compares it). */
export async function getGroup(
  ctx: DomainContext,
  tenant: string,
  name: string,
): Promise<GroupView> {
  const group = await requireGroup(ctx, tenant, name);
  const view = groupView(group, await ctx.store.countDevices(tenant, name));
  view.secretCheck = secretCheck(groupSecret(ctx, group), group.name);
  return view;
}

/**
 * Replaces the provisioning secret. Device tokens derived from the old secret stop working for
 * devices not yet provisioned; provisioned devices renew with their certificates and are unaffected.
 */
export async function rotateSecret(
  ctx: DomainContext,
  tenant: string,
  name: string,
): Promise<GroupWithSecret> {
  const group = await requireGroup(ctx, tenant, name);
  const now = ctx.now();
  const secret = newProvisioningSecret();
  const sealed = ctx.sealer.seal(secret, secretContext(tenant, name));
  if (!(await ctx.store.setGroupSecret(tenant, name, sealed, now)))
    throw new IotaError("not-found", `No group named ${JSON.stringify(name)}`);
  return {
    ...groupView({ ...group, secretSealed: sealed, secretRotatedAt: now }),
    provisioningSecret: secret,
  };
}

/**
 * Deletes a group. A group that still has devices is refused (409) unless `force` is set; then its
 * devices are deleted too and their certificates revoked.
 */
export async function deleteGroup(
  ctx: DomainContext,
  tenant: string,
  name: string,
  force: boolean,
): Promise<void> {
  await requireGroup(ctx, tenant, name);
  const count = await ctx.store.countDevices(tenant, name);
  if (count > 0 && !force) {
    throw new IotaError(
      "conflict",
      `Group ${JSON.stringify(name)} still has ${count} devices; delete them first, or delete the group with its devices (iotactl delete group --force; DELETE /v1/groups/${name}?force=true)`,
    );
  }
  if (!(await ctx.store.deleteGroup(tenant, name, ctx.now())))
    throw new IotaError("not-found", `No group named ${JSON.stringify(name)}`);
}
