/** Renewal: a provisioned device moves to a new key, proving possession of the current one. */

import { x509 } from "../../core/x509.ts";
import { decodePem } from "../../core/pem.ts";
import { IotaError, invalidField } from "../../core/errors.ts";
import { parseIdentityUri } from "../../core/profile.ts";
import { checkRenewProof } from "../../core/renew-proof.ts";
import type { RenewBody } from "../../core/wire.ts";
import type { DeviceKey } from "../store/store.ts";
import type { DomainContext } from "./context.ts";
import { requireGroup } from "./groups.ts";
import { requireDevice } from "./devices.ts";
import { checkCsr, keyIdentity } from "./csr-check.ts";
import { answer, sameDer, type IssueOutcome, type OnAuthFailure } from "./issued-answer.ts";

/** A certificate this service never issued: a value of the request, not a credential, so a 400. */
function notIssued(): IotaError {
  return invalidField("certificate", "was not issued by this service");
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
): Promise<IssueOutcome> {
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
  // Hint: an unknown tenant answers exactly like a certificate of another CA, so tenant names cannot be probed.
  const ca = await ctx.tenants.ca(id.tenant).catch(() => undefined);
  if (!ca || !(await cert.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }))) {
    onFailure();
    throw notIssued();
  }
  const now = ctx.now();
  const proofProblem = await checkRenewProof(cert, body, now);
  if (proofProblem) {
    onFailure();
    throw new IotaError("unauthorized", `The renewal proof is not valid: ${proofProblem}`);
  }
  const record = await ctx.store.getCertificate(cert.serialNumber);
  if (!record) throw notIssued();
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
    onFailure();
    throw invalidField(
      "certificate",
      "is not byte for byte the certificate this service issued to the device",
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
