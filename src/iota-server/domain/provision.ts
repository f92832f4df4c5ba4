/** Provisioning: a created device gets its first certificate with its device token or the group secret. */

import { IotaError } from "../../core/errors.ts";
import { constantTimeEqual } from "../../core/encoding.ts";
import { deviceToken } from "../../core/token.ts";
import { checkRecoveryProof } from "../../core/recovery-proof.ts";
import type { ProvisionBody } from "../../core/wire.ts";
import type { DeviceKey, DeviceRecord, GroupRecord } from "../store/store.ts";
import type { DomainContext } from "./context.ts";
import { groupSecret } from "./groups.ts";
import { requireDevice } from "./devices.ts";
import { deviceToProvision } from "./enrollment.ts";
import { checkCsr } from "./csr-check.ts";
import { DEFAULT_TENANT } from "./tenants.ts";
import { answer, plannedRenewal, type IssueOutcome, type OnAuthFailure } from "./issued-answer.ts";

/** Compared against when the group does not exist, so that case costs what a wrong credential costs. */
const NO_SECRET = "no-such-group-secret-0000000000000000000000";

/**
 * Checks the device token or group secret. An unknown tenant or group fails exactly like a wrong
 * credential (same status, same words, an HMAC computed either way), so a caller without a credential
 * learns no names.
 */
function checkCredential(
  ctx: DomainContext,
  group: GroupRecord | undefined,
  body: ProvisionBody,
  onFailure: OnAuthFailure,
): void {
  const secret = group ? groupSecret(ctx, group) : NO_SECRET;
  const ok =
    body.token !== undefined
      ? constantTimeEqual(body.token, deviceToken(secret, body.group, body.device))
      : constantTimeEqual(body.secret ?? "", secret);
  if (ok && group) return;
  onFailure();
  const what = body.token !== undefined ? "device token" : "provisioning secret";
  throw new IotaError(
    "unauthorized",
    `The ${what} is not valid for device ${JSON.stringify(body.device)} in group ${JSON.stringify(body.group)}`,
  );
}

/**
 * After an operator's reset, the device must prove it holds the key it had before (see
 * core/recovery-proof.ts); a device token alone is not enough, since it may have been stolen.
 */
async function checkRecovery(
  ctx: DomainContext,
  device: DeviceRecord,
  body: ProvisionBody,
  onFailure: OnAuthFailure,
): Promise<void> {
  if (device.recoveryKey === null) return;
  const problem = body.proof
    ? await checkRecoveryProof(
        new Uint8Array(Buffer.from(device.recoveryKey, "base64")),
        body,
        body.proof,
        ctx.now(),
      )
    : "is required: the device was reset by an operator and must prove it holds the key it had before (iotad does this by itself); for a device that lost its key, an operator resets it with --forget-key";
  if (problem === undefined) return;
  onFailure();
  throw new IotaError("unauthorized", `proof ${problem}`, {
    errors: [{ field: "proof", message: problem }],
  });
}

/**
 * Provisions a device: checks the credential and the CSR, issues a certificate and records it.
 * Idempotent for the same public key; a different key on a provisioned device is refused (conflict).
 */
export async function provision(
  ctx: DomainContext,
  body: ProvisionBody,
  onFailure: OnAuthFailure,
): Promise<IssueOutcome> {
  const tenant = body.tenant ?? DEFAULT_TENANT;
  const group = await ctx.store.getGroup(tenant, body.group);
  // Hint: the credential is checked before the device is looked up, so a caller without one cannot probe names.
  checkCredential(ctx, group, body, onFailure);
  const key: DeviceKey = { tenantId: tenant, group: body.group, name: body.device };
  const device = await deviceToProvision(ctx, group as GroupRecord, key, body.csr);
  const csr = await checkCsr(body.csr, body.device);
  for (let attempt = 0; attempt < 2; attempt++) {
    const current = attempt === 0 ? device : await requireDevice(ctx, key);
    if (current.state === "revoked")
      throw new IotaError(
        "forbidden",
        `Device ${JSON.stringify(body.device)} is revoked; an operator must reset it before it can provision again`,
      );
    if (current.state === "provisioned") {
      if (current.keyHash === csr.keyHash && (current.notAfter ?? 0) > ctx.now())
        return { created: false, issued: await answer(ctx, current) };
      if (current.keyHash !== csr.keyHash) {
        throw new IotaError(
          "conflict",
          `Device ${JSON.stringify(body.device)} is already provisioned with another key; an operator must reset it first`,
        );
      }
      throw new IotaError(
        "conflict",
        `Device ${JSON.stringify(body.device)} is provisioned and its certificate expired; renew it or have an operator reset it`,
      );
    }
    await checkRecovery(ctx, current, body, onFailure);
    const ca = await ctx.tenants.ca(tenant);
    const now = ctx.now();
    const cert = await ca.issue(
      { tenant, group: body.group, device: body.device },
      csr.publicKey,
      (group as GroupRecord).validity,
      now,
    );
    const issuance = {
      serial: cert.serial,
      keyHash: csr.keyHash,
      certificate: cert.pem,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      issuedAt: now,
      renewAt: plannedRenewal(cert.serial, cert, true),
    };
    if (await ctx.store.recordProvisioned(key, issuance)) {
      return {
        created: true,
        issued: await answer(ctx, {
          ...current,
          ...issuance,
          state: "provisioned",
          firstIssue: true,
          provisionedAt: now,
          recoveryKey: null,
        }),
      };
    }
    // Another request provisioned the device meanwhile: answer as if this one came second.
  }
  throw new IotaError(
    "conflict",
    `Device ${JSON.stringify(body.device)} changed while it was being provisioned; retry`,
  );
}
