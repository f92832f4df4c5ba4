/** The embedded broker's own TLS server certificate, issued by the tenant CA at every start and kept in memory. */

import { isIP } from "node:net";
import { crypto } from "../../core/x509.ts";
import { EC_P256, exportPrivateKeyPem } from "../../core/csr.ts";
import type { CertificateAuthority } from "../ca/authority.ts";

/** A broker server certificate: devices already trust the tenant CA, so they trust this without another anchor. */
export interface BrokerCertificate {
  /** Certificate PEM (the leaf only; the CA is what clients pin). */
  certPem: string;
  /** PKCS#8 private key PEM; never written to disk or logs. */
  keyPem: string;
  serial: string;
  notAfter: number;
}

/** A year: the certificate is made anew at every start, so it only has to outlive one run of the service. */
const BROKER_VALIDITY_SECONDS = 365 * 86400;

/** Hosts that name no interface a client could dial: they go into no SAN. */
const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "", "*"]);

/** True when `host` means "every interface" rather than an address a client could dial. */
export function isWildcardHost(host: string): boolean {
  return WILDCARD_HOSTS.has(host);
}

/**
 * The SAN of the broker certificate: `localhost`, `127.0.0.1`, `::1`, the listen host (a DNS name or an IP),
 * and `extraNames` (e.g. the machine's host name when listening on every interface).
 */
export function brokerNames(
  listenHost: string,
  extraNames: string[] = [],
): { dnsNames: string[]; ipAddresses: string[] } {
  const dnsNames = new Set(["localhost"]);
  const ipAddresses = new Set(["127.0.0.1", "::1"]);
  for (const host of [listenHost, ...extraNames]) {
    if (isWildcardHost(host)) continue;
    if (isIP(host)) ipAddresses.add(host);
    else dnsNames.add(host.toLowerCase());
  }
  return { dnsNames: [...dnsNames], ipAddresses: [...ipAddresses] };
}

/** Generates a fresh P-256 key and has the tenant CA certify it for `names` (EKU serverAuth). */
export async function issueBrokerCertificate(
  ca: CertificateAuthority,
  names: { dnsNames: string[]; ipAddresses: string[] },
  now: number,
): Promise<BrokerCertificate> {
  const keys = (await crypto.subtle.generateKey(EC_P256, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const issued = await ca.issueServer(names, keys.publicKey, BROKER_VALIDITY_SECONDS, now);
  return {
    certPem: issued.pem,
    keyPem: await exportPrivateKeyPem(keys.privateKey),
    serial: issued.serial,
    notAfter: issued.notAfter,
  };
}
