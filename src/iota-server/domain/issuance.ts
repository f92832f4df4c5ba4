/** Provisioning and renewal: the two ways a device gets a certificate. */

import { x509 } from "../../core/x509.ts";
import { decodePem } from "../../core/pem.ts";
import { IotaError, invalidField } from "../../core/errors.ts";
import { constantTimeEqual } from "../../core/encoding.ts";
import { deviceToken } from "../../core/token.ts";
import { parseIdentityUri } from "../../core/profile.ts";
import { checkRenewProof } from "../../core/renew-proof.ts";
import { DEFAULT_RENEWAL_POLICY, renewalTime, serialRandom } from "../../core/renewal.ts";
import type { IssuedCertificate, ProvisionBody, RenewBody } from "../../core/wire.ts";
import type { DeviceKey, DeviceRecord, GroupRecord } from "../store/store.ts";
import type { DomainContext } from "./context.ts";
import { groupSecret, requireGroup } from "./groups.ts";
import { requireDevice } from "./devices.ts";
import { checkCsr, keyIdentity } from "./csr-check.ts";
import { DEFAULT_TENANT } from "./tenants.ts";

/** Called for each failed credential check, so the HTTP layer can throttle guessing. */
export type OnAuthFailure = (scope: string) => void;

/** The answer for a stored device certificate. */
async function answer(ctx: DomainContext, device: DeviceRecord): Promise<IssuedCertificate> {
  const ca = await ctx.tenants.ca(device.tenantId);
  const certificate = device.certificate ?? "";
  const serial = device.serial ?? "";
  const validity = { notBefore: device.notBefore ?? 0, notAfter: device.notAfter ?? 0 };
  const renewAt = renewalTime(
    validity,
    DEFAULT_RENEWAL_POLICY,
    serialRandom(serial),
    device.firstIssue,
  );
  return {
    certificate,
    chain: `${certificate}${ca.certPem}`,
    ca: ca.certPem,
    serial,
    notBefore: new Date(validity.notBefore).toISOString(),
    notAfter: new Date(validity.notAfter).toISOString(),
    renewAt: new Date(renewAt).toISOString(),
  };
}

/** True when the stored PEM certificate holds exactly the DER bytes of `cert`. */
function sameDer(storedPem: string | null, cert: x509.X509Certificate): boolean {
  const stored = decodePem(storedPem ?? "")[0]?.der;
  return stored !== undefined && Buffer.from(stored).equals(Buffer.from(cert.rawData));
}

/** Checks the device token or group secret of a provisioning request; 401 when neither matches. */
function checkCredential(
  ctx: DomainContext,
  group: GroupRecord,
  body: ProvisionBody,
  onFailure: OnAuthFailure,
): void {
  const secret = groupSecret(ctx, group);
  const ok =
    body.token !== undefined
      ? constantTimeEqual(body.token, deviceToken(secret, group.name, body.device))
      : constantTimeEqual(body.secret ?? "", secret);
  if (!ok) {
    onFailure(`${group.tenantId}/${group.name}`);
    const what = body.token !== undefined ? "device token" : "provisioning secret";
    throw new IotaError(
      "unauthorized",
      `The ${what} is not valid for device ${JSON.stringify(body.device)} in group ${JSON.stringify(group.name)}`,
    );
  }
}

/**
 * Provisions a device: checks the credential and the CSR, issues a certificate and records it.
 * Idempotent for the same public key; a different key on a provisioned device is refused (409).
 */
export async function provision(
  ctx: DomainContext,
  body: ProvisionBody,
  onFailure: OnAuthFailure,
): Promise<{ created: boolean; issued: IssuedCertificate }> {
  const tenant = body.tenant ?? DEFAULT_TENANT;
  const group = await requireGroup(ctx, tenant, body.group);
  const key: DeviceKey = { tenantId: tenant, group: body.group, name: body.device };
  // Hint: the credential is checked before the device is looked up, so a caller without one cannot probe device names.
  checkCredential(ctx, group, body, onFailure);
  const device = await requireDevice(ctx, key);
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
    const ca = await ctx.tenants.ca(tenant);
    const now = ctx.now();
    const cert = await ca.issue(
      { tenant, group: body.group, device: body.device },
      csr.publicKey,
      group.validity,
      now,
    );
    const issuance = {
      serial: cert.serial,
      keyHash: csr.keyHash,
      certificate: cert.pem,
      notBefore: cert.notBefore,
      notAfter: cert.notAfter,
      issuedAt: now,
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

/**
 * Renews a device certificate. The request proves possession of the current key (see the renewal
 * proof), carries a CSR for a new key, and is refused for revoked, superseded or long-expired certificates.
 * A retried renewal whose answer was lost (same new key, previous serial) gets the same certificate back.
 */
export async function renew(
  ctx: DomainContext,
  body: RenewBody,
  onFailure: OnAuthFailure,
): Promise<{ created: boolean; issued: IssuedCertificate }> {
  let cert: x509.X509Certificate;
  const blocks = decodePem(body.certificate);
  if (blocks.length !== 1 || blocks[0]?.label !== "CERTIFICATE")
    throw invalidField("certificate", "must be exactly one PEM block labelled CERTIFICATE");
  let uri: string | undefined;
  try {
    cert = new x509.X509Certificate(body.certificate);
    // Hint: extensions are decoded lazily, so a damaged one throws here, not in the constructor.
    uri = cert
      .getExtension(x509.SubjectAlternativeNameExtension)
      ?.names.items.find((n) => n.type === "url")?.value;
  } catch {
    throw invalidField("certificate", "is not a valid X.509 certificate in PEM");
  }
  const id = uri ? parseIdentityUri(uri) : undefined;
  if (!id)
    throw invalidField(
      "certificate",
      "is not an IoTA device certificate (no iota:// identity URI)",
    );
  const ca = await ctx.tenants.ca(id.tenant);
  if (!(await cert.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }))) {
    onFailure(`${id.tenant}/${id.group}`);
    throw new IotaError("unauthorized", "The certificate was not issued by this tenant's CA");
  }
  const now = ctx.now();
  const proofProblem = await checkRenewProof(cert, body, now);
  if (proofProblem) {
    onFailure(`${id.tenant}/${id.group}`);
    throw new IotaError("unauthorized", `The renewal proof is not valid: ${proofProblem}`);
  }
  const record = await ctx.store.getCertificate(cert.serialNumber);
  if (!record) throw new IotaError("unauthorized", "The certificate is not known to this service");
  if (record.revokedAt !== null)
    throw new IotaError("forbidden", `Certificate ${cert.serialNumber} is revoked`);
  const group = await requireGroup(ctx, id.tenant, id.group);
  if (cert.notAfter.getTime() + group.grace * 1000 < now) {
    throw new IotaError(
      "forbidden",
      `Certificate ${cert.serialNumber} expired more than the group's renew grace (${group.grace}s) ago; an operator must reset the device`,
    );
  }
  const key: DeviceKey = { tenantId: id.tenant, group: id.group, name: id.device };
  const device = await requireDevice(ctx, key);
  if (device.state !== "provisioned")
    throw new IotaError(
      "forbidden",
      `Device ${JSON.stringify(id.device)} is ${device.state}; it cannot renew`,
    );
  // Hint: the DER parser tolerates a few changed bytes outside the signed part; only the exact issued bytes may renew.
  if (device.serial === cert.serialNumber && !sameDer(device.certificate, cert)) {
    onFailure(`${id.tenant}/${id.group}`);
    throw new IotaError(
      "unauthorized",
      "The certificate is not the one this service issued to the device",
    );
  }
  const csr = await checkCsr(body.csr, id.device);
  if (device.serial !== cert.serialNumber) {
    if (device.prevSerial === cert.serialNumber && device.keyHash === csr.keyHash)
      return { created: false, issued: await answer(ctx, device) };
    throw new IotaError(
      "conflict",
      `Certificate ${cert.serialNumber} is no longer the device's current certificate`,
    );
  }
  // Hint: the current key's identity comes from the certificate, not the stored hash, which a device provisioned
  // before non-canonical keys were refused may hold for a compressed encoding of its key.
  if ((await keyIdentity(new Uint8Array(cert.publicKey.rawData))) === csr.keyHash)
    throw invalidField("csr", "must be for a new key; renewal re-keys the device");
  const issued = await ca.issue(id, csr.publicKey, group.validity, now);
  const issuance = {
    serial: issued.serial,
    keyHash: csr.keyHash,
    certificate: issued.pem,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
    issuedAt: now,
  };
  if (!(await ctx.store.recordRenewed(key, cert.serialNumber, issuance))) {
    const latest = await requireDevice(ctx, key);
    if (latest.prevSerial === cert.serialNumber && latest.keyHash === csr.keyHash)
      return { created: false, issued: await answer(ctx, latest) };
    throw new IotaError(
      "conflict",
      `Certificate ${cert.serialNumber} was renewed by another request`,
    );
  }
  return {
    created: true,
    issued: await answer(ctx, {
      ...device,
      ...issuance,
      firstIssue: false,
      prevSerial: cert.serialNumber,
      lastRenewal: now,
    }),
  };
}
