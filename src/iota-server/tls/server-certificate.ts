/**
 * The service's own TLS server certificates (the API listener and the embedded broker): issued by the
 * server CA for a fresh key that only ever lives in memory.
 */

import { isIP } from "node:net";
import { crypto } from "../../core/x509.ts";
import { EC_P256, exportPrivateKeyPem } from "../../core/csr.ts";
import type { CertificateAuthority, IssuedDeviceCertificate, ServerRole } from "../ca/authority.ts";

/** A TLS server certificate and its key. */
export interface ServerCertificate {
  /** Certificate PEM (the leaf only; the server CA is what clients pin). */
  certPem: string;
  /** PKCS#8 private key PEM; never written to disk or logs. */
  keyPem: string;
  serial: string;
  notBefore: number;
  notAfter: number;
}

/** The names a server certificate carries in its SAN. */
export interface TlsNames {
  dnsNames: string[];
  ipAddresses: string[];
}

/** Hosts that name no interface a client could dial: they go into no SAN. */
const WILDCARD_HOSTS = new Set(["0.0.0.0", "::", "", "*"]);

/** True when `host` means "every interface" rather than an address a client could dial. */
export function isWildcardHost(host: string): boolean {
  return WILDCARD_HOSTS.has(host);
}

/** True when `host` is this machine only: `localhost`, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[|\]$/g, "").toLowerCase();
  return bare === "localhost" || bare === "::1" || /^127\.\d+\.\d+\.\d+$/.test(bare);
}

/**
 * The SAN of a server certificate: `localhost`, `127.0.0.1`, `::1` (so tools on the machine itself always
 * verify), the listen host when it is a name or an address, and `extraNames` (the operator's
 * `--hostname`s, or the machine's host name).
 */
export function tlsNames(listenHost: string, extraNames: string[] = []): TlsNames {
  const dnsNames = new Set(["localhost"]);
  const ipAddresses = new Set(["127.0.0.1", "::1"]);
  for (const host of [listenHost, ...extraNames]) {
    if (isWildcardHost(host)) continue;
    if (isIP(host)) ipAddresses.add(host);
    else dnsNames.add(host.toLowerCase());
  }
  return { dnsNames: [...dnsNames], ipAddresses: [...ipAddresses] };
}

/**
 * Generates a fresh P-256 key and has `ca` certify it for `names` (EKU serverAuth) for `validitySeconds`, as the
 * listener `role`.
 */
export async function issueServerCertificate(
  ca: CertificateAuthority,
  names: TlsNames,
  role: ServerRole,
  validitySeconds: number,
  now: number,
): Promise<ServerCertificate> {
  return await certifyFreshKey((publicKey) =>
    ca.issueServer(names, role, publicKey, validitySeconds, now),
  );
}

/**
 * A fresh P-256 key, certified by `issue`, with its private key as PEM: the service's own certificates (its
 * listeners, its broker monitor), whose keys only ever live in memory.
 */
export async function certifyFreshKey(
  issue: (publicKey: CryptoKey) => Promise<IssuedDeviceCertificate>,
): Promise<ServerCertificate> {
  const keys = (await crypto.subtle.generateKey(EC_P256, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const issued = await issue(keys.publicKey);
  return {
    certPem: issued.pem,
    keyPem: await exportPrivateKeyPem(keys.privateKey),
    serial: issued.serial,
    notBefore: issued.notBefore,
    notAfter: issued.notAfter,
  };
}
