/** Renewal: a provisioned device moves to a new key, proving possession of the current one. */

import { x509 } from "../../core/x509.ts";
import { decodePem } from "../../core/pem.ts";
import { IotaError, invalidField } from "../../core/errors.ts";
import { parseIdentityUri, type DeviceIdentity } from "../../core/profile.ts";
import {
  checkRenewProof,
  checkRenewProofWith,
  type ProofVerifier,
} from "../../core/renew-proof.ts";
import type { RenewBody } from "../../core/wire.ts";
import type { CertificateAuthority } from "../ca/authority.ts";
import type { DeviceKey, DeviceRecord, GroupRecord } from "../store/store.ts";
import type { DomainContext } from "./context.ts";
import { requireGroup } from "./groups.ts";
import { requireDevice } from "./devices.ts";
import { checkCsr, keyIdentity } from "./csr-check.ts";
import { readDeviceCertificate } from "./certificate-reader.ts";
import { importP256, verifyP256 } from "./p256-verify.ts";
import {
  answer,
  plannedRenewal,
  sameDer,
  sameDerBytes,
  type IssueOutcome,
  type OnAuthFailure,
} from "./issued-answer.ts";

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
  const blocks = decodePem(body.certificate);
  const block = blocks[0];
  if (blocks.length !== 1 || block?.label !== "CERTIFICATE")
    throw invalidField("certificate", "must be exactly one PEM block labelled CERTIFICATE");
  return (
    (await renewCurrent(ctx, body, onFailure, new Uint8Array(block.der))) ??
    (await renewAny(ctx, body, onFailure))
  );
}

/**
 * The common case: the certificate is, byte for byte, the device's current one as this service stored it when
 * it issued it. Its CA signature is then known good without checking it again (and without a full X.509
 * parse); every other check runs in the order {@link renewAny} runs it, so the answers are the same.
 * Undefined, before anything observable happened, when the certificate is anything else. Exported for the
 * test that holds both paths to the same answers.
 */
export async function renewCurrent(
  ctx: DomainContext,
  body: RenewBody,
  onFailure: OnAuthFailure,
  der: Uint8Array<ArrayBuffer>,
): Promise<IssueOutcome | undefined> {
  const view = readDeviceCertificate(der);
  const id = view?.uri ? parseIdentityUri(view.uri) : undefined;
  if (!view || !id) return undefined;
  const key: DeviceKey = { tenantId: id.tenant, group: id.group, name: id.device };
  const device = await ctx.store.getDevice(key);
  if (device?.serial !== view.serial || !sameDerBytes(device.certificate, der)) return undefined;
  const ca = await ctx.tenants.ca(id.tenant).catch(() => undefined);
  const verifier = await importP256(view.spki);
  if (!verifier || !ca) return undefined;
  const now = ctx.now();
  const verify: ProofVerifier = (signature, message) => verifyP256(verifier, signature, message);
  const proofProblem = await checkRenewProofWith(view.serial, verify, body, now);
  if (proofProblem) {
    onFailure();
    throw new IotaError("unauthorized", `The renewal proof is not valid: ${proofProblem}`);
  }
  const record = await ctx.store.getCertificate(key, view.serial);
  if (!record) throw notIssued();
  if (record.revokedAt !== null)
    throw new IotaError("forbidden", `Certificate ${view.serial} is revoked`);
  const group = await requireGroup(ctx, id.tenant, id.group);
  // Hint: the stored notAfter is the certificate's: both were written from one issuance.
  checkGrace(view.serial, device.notAfter ?? 0, group.grace, now);
  checkProvisioned(id.device, device);
  return await renewTo(ctx, body, {
    id,
    key,
    device,
    serial: view.serial,
    spki: view.spki,
    ca,
    group,
    now,
  });
}

/** Any certificate: parsed in full and its CA signature checked, for every case {@link renewCurrent} leaves. */
export async function renewAny(
  ctx: DomainContext,
  body: RenewBody,
  onFailure: OnAuthFailure,
): Promise<IssueOutcome> {
  let cert: x509.X509Certificate;
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
  // Hint: a damaged signature value (an INTEGER too long for P-256) throws instead of failing to verify.
  const signed =
    ca !== undefined &&
    (await cert.verify({ publicKey: ca.cert.publicKey, signatureOnly: true }).catch(() => false));
  if (!signed) {
    onFailure();
    throw notIssued();
  }
  const now = ctx.now();
  const proofProblem = await checkRenewProof(cert, body, now);
  if (proofProblem) {
    onFailure();
    throw new IotaError("unauthorized", `The renewal proof is not valid: ${proofProblem}`);
  }
  const key: DeviceKey = { tenantId: id.tenant, group: id.group, name: id.device };
  const record = await ctx.store.getCertificate(key, cert.serialNumber);
  // Hint: signed by the tenant CA and proven, yet not recorded: the database is older than the certificate.
  if (!record)
    throw invalidField(
      "certificate",
      "was signed by this service's CA but is not in its database (restored from a backup taken before it was issued?); the device must provision again",
    );
  if (record.revokedAt !== null)
    throw new IotaError("forbidden", `Certificate ${cert.serialNumber} is revoked`);
  const group = await requireGroup(ctx, id.tenant, id.group);
  checkGrace(cert.serialNumber, cert.notAfter.getTime(), group.grace, now);
  const device = await requireDevice(ctx, key);
  checkProvisioned(id.device, device);
  // Hint: the DER parser tolerates a few changed bytes outside the signed part; only the exact issued bytes may renew.
  if (device.serial === cert.serialNumber && !sameDer(device.certificate, cert)) {
    onFailure();
    throw invalidField(
      "certificate",
      "is not byte for byte the certificate this service issued to the device",
    );
  }
  const spki = new Uint8Array(cert.publicKey.rawData);
  return await renewTo(ctx, body, {
    id,
    key,
    device,
    serial: cert.serialNumber,
    spki,
    ca,
    group,
    now,
  });
}

/** Refused once the certificate expired more than the group's renew grace ago. */
function checkGrace(serial: string, notAfter: number, grace: number, now: number): void {
  if (notAfter + grace * 1000 < now) {
    throw new IotaError(
      "forbidden",
      `Certificate ${serial} expired more than the group's renew grace (${grace}s) ago; an operator must reset the device`,
    );
  }
}

function checkProvisioned(name: string, device: DeviceRecord): void {
  if (device.state !== "provisioned")
    throw new IotaError(
      "forbidden",
      `Device ${JSON.stringify(name)} is ${device.state}; it cannot renew`,
    );
}

/** A checked renewal request: the presented certificate's serial and key, and what it was checked against. */
interface Checked {
  id: DeviceIdentity;
  key: DeviceKey;
  device: DeviceRecord;
  serial: string;
  spki: Uint8Array;
  ca: CertificateAuthority;
  group: GroupRecord;
  now: number;
}

/** The new key's CSR checked, then a new certificate issued and recorded (or the earlier answer re-sent). */
async function renewTo(ctx: DomainContext, body: RenewBody, c: Checked): Promise<IssueOutcome> {
  const { id, key, device, serial, now } = c;
  const csr = await checkCsr(body.csr, id.device);
  if (device.serial !== serial) {
    if (device.prevSerial === serial && device.keyHash === csr.keyHash)
      return { created: false, issued: await answer(ctx, device) };
    throw new IotaError(
      "conflict",
      `Certificate ${serial} is no longer the device's current certificate`,
    );
  }
  // Hint: the current key's identity comes from the certificate, not the stored hash, which a device provisioned
  // before non-canonical keys were refused may hold for a compressed encoding of its key.
  if ((await keyIdentity(c.spki)) === csr.keyHash)
    throw invalidField("csr", "must be for a new key; renewal re-keys the device");
  const issued = await c.ca.issue(id, csr.publicKey, c.group.validity, now);
  const issuance = {
    serial: issued.serial,
    keyHash: csr.keyHash,
    certificate: issued.pem,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
    issuedAt: now,
    renewAt: plannedRenewal(issued.serial, issued, false),
  };
  if (!(await ctx.store.recordRenewed(key, serial, issuance))) {
    const latest = await requireDevice(ctx, key);
    if (latest.prevSerial === serial && latest.keyHash === csr.keyHash)
      return { created: false, issued: await answer(ctx, latest) };
    throw new IotaError("conflict", `Certificate ${serial} was renewed by another request`);
  }
  ctx.events?.renewed(key, issued.serial);
  return {
    created: true,
    issued: await answer(ctx, {
      ...device,
      ...issuance,
      firstIssue: false,
      prevSerial: serial,
      lastRenewal: now,
    }),
  };
}
