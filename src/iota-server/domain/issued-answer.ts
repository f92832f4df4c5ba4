/** The answer to provision and renew, built from the device's stored certificate. */

import type { x509 } from "../../core/x509.ts";
import { decodePem } from "../../core/pem.ts";
import { DEFAULT_RENEWAL_POLICY, renewalTime, serialRandom } from "../../core/renewal.ts";
import type { IssuedCertificate } from "../../core/wire.ts";
import type { DeviceRecord } from "../store/store.ts";
import type { DomainContext } from "./context.ts";

/** Called for each failed credential or proof; it may throw instead (a rate-limited answer). */
export type OnAuthFailure = () => void;

/** An issued (created) or re-sent certificate. */
export interface IssueOutcome {
  created: boolean;
  issued: IssuedCertificate;
}

/**
 * The planned renewal of a certificate (`first`: from provisioning): the instant the store records, the service
 * answers and iotad computes by itself.
 */
export function plannedRenewal(
  serial: string,
  validity: { notBefore: number; notAfter: number },
  first: boolean,
): number {
  return renewalTime(validity, DEFAULT_RENEWAL_POLICY, serialRandom(serial), first);
}

/**
 * The answer for a stored device certificate. Hint: its planned renewal is the one the store recorded with it
 * (one hash less per answer); computed only for a device recorded without one.
 */
export async function answer(ctx: DomainContext, device: DeviceRecord): Promise<IssuedCertificate> {
  const ca = await ctx.tenants.ca(device.tenantId);
  const certificate = device.certificate ?? "";
  const serial = device.serial ?? "";
  const validity = { notBefore: device.notBefore ?? 0, notAfter: device.notAfter ?? 0 };
  const renewAt = device.renewAt ?? plannedRenewal(serial, validity, device.firstIssue);
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
export function sameDer(storedPem: string | null, cert: x509.X509Certificate): boolean {
  return sameDerBytes(storedPem, new Uint8Array(cert.rawData));
}

/** True when the stored PEM certificate holds exactly the bytes `der`. */
export function sameDerBytes(storedPem: string | null, der: Uint8Array): boolean {
  const stored = decodePem(storedPem ?? "")[0]?.der;
  return stored !== undefined && Buffer.from(stored).equals(der);
}
