/** The device behind an MQTT client's TLS certificate, and whether that certificate may still be used. */

import { x509 } from "../../core/x509.ts";
import { parseIdentityUri, type DeviceIdentity } from "../../core/profile.ts";
import type { Store } from "../store/store.ts";

/** A client certificate the broker accepts: the device it names and what re-checks need. */
export interface ClientIdentity {
  identity: DeviceIdentity;
  /** Lowercase hex serial, as the certificates table keeps it. */
  serial: string;
  /** Epoch milliseconds. */
  notAfter: number;
}

/** The verdict on a client certificate: accepted, or refused with a reason fit for the log. */
export type IdentityCheck = { ok: true; client: ClientIdentity } | { ok: false; reason: string };

/** The IoTA identity URI in a certificate's SAN, if any. */
function identityOf(cert: x509.X509Certificate): DeviceIdentity | undefined {
  const san = cert.getExtension(x509.SubjectAlternativeNameExtension);
  for (const name of san?.names.items ?? []) {
    if (name.type !== "url") continue;
    const id = parseIdentityUri(name.value);
    if (id) return id;
  }
  return undefined;
}

/**
 * Reads the device identity from a client certificate (DER) that TLS already verified against the tenant CA,
 * then asks the store whether the service issued it to that device, has not revoked it and has not replaced it by a
 * renewal. The store, not a CRL file, is the authority here, so a revocation or a renewal applies to the next
 * connection at once (and on every replica).
 */
export async function checkClientCertificate(
  store: Store,
  tenant: string,
  der: Uint8Array | undefined,
  now: number,
): Promise<IdentityCheck> {
  if (!der || der.length === 0) return { ok: false, reason: "no client certificate" };
  let cert: x509.X509Certificate;
  try {
    cert = new x509.X509Certificate(new Uint8Array(der));
  } catch {
    return { ok: false, reason: "the client certificate does not parse" };
  }
  const identity = identityOf(cert);
  if (!identity)
    return {
      ok: false,
      reason: `certificate ${cert.serialNumber} names no IoTA device (no iota:// SAN URI)`,
    };
  if (identity.tenant !== tenant)
    return {
      ok: false,
      reason: `certificate ${cert.serialNumber} belongs to tenant ${identity.tenant}, not ${tenant}`,
    };
  return await recheckClient(
    store,
    { identity, serial: cert.serialNumber.toLowerCase(), notAfter: cert.notAfter.getTime() },
    now,
  );
}

/**
 * Checks an accepted client again: a certificate the service issued to that device, not revoked, still the device's
 * current one, not expired. Hint: a renewal does not revoke the certificate it replaces (the device may still be
 * switching to the new one), so a replaced certificate is refused here; otherwise a copy of an earlier key would
 * keep the device's broker identity, and its client id, until that certificate expired.
 */
export async function recheckClient(
  store: Store,
  client: ClientIdentity,
  now: number,
): Promise<IdentityCheck> {
  const { identity, serial } = client;
  const who = `${identity.group}/${identity.device} (serial ${serial})`;
  const device = { tenantId: identity.tenant, group: identity.group, name: identity.device };
  // Hint: looked up by the device the certificate names, so a record found is that device's.
  const record = await store.getCertificateStanding(device, serial);
  if (!record) return { ok: false, reason: `certificate of ${who} was not issued by this service` };
  if (record.revokedAt !== null) return { ok: false, reason: `certificate of ${who} is revoked` };
  if (record.currentSerial !== serial)
    return {
      ok: false,
      reason:
        record.currentSerial === null
          ? `certificate ${serial} of ${identity.group}/${identity.device} was replaced: the device holds no certificate now`
          : `certificate ${serial} was replaced by ${record.currentSerial}: only the current certificate of ${identity.group}/${identity.device} may connect`,
    };
  return checkExpiry(client, now);
}

/** Checks only the expiry of an accepted client, which needs no store. */
export function checkExpiry(client: ClientIdentity, now: number): IdentityCheck {
  if (client.notAfter > now) return { ok: true, client };
  return {
    ok: false,
    reason: `certificate of ${client.identity.group}/${client.identity.device} (serial ${client.serial}) has expired`,
  };
}
