/**
 * The identity under which the service watches an external broker: a client certificate the tenant CA issues to
 * the service itself, for the reserved name {@link MONITOR_USER} (with `use_identity_as_username` it is the MQTT
 * user name the broker's ACL gives read access to status topics; no device can be named so). Its key never
 * leaves memory; it lives a day and is renewed before that, like the service's TLS certificates.
 */

import type { CertificateAuthority } from "../ca/authority.ts";
import { certifyFreshKey, type ServerCertificate } from "../tls/server-certificate.ts";

/** The monitor's certificate CN and MQTT user name: a dot makes it no valid device name. */
export const MONITOR_USER = "iota.monitor";
/** The monitor certificate's lifetime: it is on no CRL, so it is short. */
export const MONITOR_VALIDITY_SECONDS = 86_400;

/** A fresh key and a monitor certificate for it, from `tenant`'s CA. */
export async function issueMonitorCertificate(
  ca: CertificateAuthority,
  tenant: string,
  now: number,
  validitySeconds = MONITOR_VALIDITY_SECONDS,
): Promise<ServerCertificate> {
  return await certifyFreshKey((publicKey) =>
    ca.issueMonitor(MONITOR_USER, tenant, publicKey, validitySeconds, now),
  );
}
