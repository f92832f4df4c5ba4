/**
 * Enrollment: what a group's provisioning credential may create. A group enrolling `any` creates the
 * device it provisions, when the name matches the group's pattern and the group's hourly limit has room;
 * a `registered` group (the default) provisions only devices an operator created.
 */

import { changeEnrollment } from "../../core/enrollment.ts";
import { IotaError, invalidField } from "../../core/errors.ts";
import { matchesNamePattern } from "../../core/name-pattern.ts";
import type { PatchGroupBody } from "../../core/enrollment.ts";
import type { GroupView } from "../../core/wire.ts";
import type { DeviceKey, DeviceRecord, GroupRecord } from "../store/store.ts";
import type { DomainContext } from "./context.ts";
import { checkCsr } from "./csr-check.ts";
import { groupView, requireGroup } from "./groups.ts";

/** `PATCH /v1/groups/{group}`: changes the group's enrollment, checked whole (see `changeEnrollment`). */
export async function changeGroupEnrollment(
  ctx: DomainContext,
  tenant: string,
  name: string,
  patch: PatchGroupBody,
): Promise<GroupView> {
  const group = await requireGroup(ctx, tenant, name);
  const changed = changeEnrollment(group, patch);
  if (!changed.ok) throw invalidField(changed.field, changed.message);
  if (!(await ctx.store.setGroupEnrollment(tenant, name, changed.enrollment)))
    throw new IotaError("not-found", `No group named ${JSON.stringify(name)}`);
  const e = changed.enrollment;
  ctx.log?.info(
    `group ${tenant}/${name}: enrollment ${e.enrollment}${e.enrollment === "any" ? ` (names ${e.namePattern}, at most ${e.enrollPerHour} per hour)` : ""}`,
  );
  return groupView({ ...group, ...e }, await ctx.store.countDevices(tenant, name));
}

/**
 * The device a provisioning request names, whose credential was checked: the stored one; else, for a
 * group enrolling `any`, one created now. Hint: for a device that exists this is the one lookup
 * provisioning always made; the rest runs once in a device's life.
 */
export async function deviceToProvision(
  ctx: DomainContext,
  group: GroupRecord,
  key: DeviceKey,
  csrPem: string,
): Promise<DeviceRecord> {
  const device = await ctx.store.getDevice(key);
  if (device) return device;
  const missing = `No device named ${JSON.stringify(key.name)} in group ${JSON.stringify(key.group)}`;
  if (group.enrollment !== "any")
    throw new IotaError(
      "not-found",
      `${missing}: the group provisions only devices created in advance (enrollment "registered")`,
    );
  if (!matchesNamePattern(group.namePattern, key.name))
    throw new IotaError(
      "not-found",
      `${missing}, and the group enrolls only names matching ${JSON.stringify(group.namePattern)}`,
    );
  // Hint: a CSR that cannot provision must not use up a slot of the group's hour (it is checked again after).
  await checkCsr(csrPem, key.name);
  const result = await ctx.store.enrollDevice(key, ctx.now());
  if (result.kind === "refused") {
    if (result.retryAfterMs === null)
      throw new IotaError("not-found", `${missing}: the group no longer enrolls new devices`);
    const wait = Math.ceil(result.retryAfterMs / 1000);
    throw new IotaError(
      "rate-limited",
      `Group ${JSON.stringify(key.group)} enrolled its limit of ${group.enrollPerHour} new devices this hour; retry in ${wait} s`,
      { retryAfter: wait },
    );
  }
  if (result.kind === "created")
    ctx.log?.info(
      `enrolled device ${key.tenantId}/${key.group}/${key.name}: created by its group's credential (names ${group.namePattern})`,
    );
  const created = await ctx.store.getDevice(key);
  if (!created) throw new IotaError("not-found", `${missing}: it was deleted while it enrolled`);
  return created;
}
