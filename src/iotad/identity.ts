/** The device identity the agent holds: a key pair and the certificate issued for it. */

import { crypto, x509 } from "../core/x509.ts";
import { importPrivateKeyPem } from "../core/csr.ts";

/** A key and its certificate, known to match. */
export interface Identity {
  /** The key pair (private key from PKCS#8 PEM). */
  keys: CryptoKeyPair;
  /** The certificate, PEM. */
  certPem: string;
  /** The private key, PKCS#8 PEM (for the MQTT client; never logged). */
  keyPem: string;
  /** The certificate serial, lowercase hex. */
  serial: string;
  /** Validity in epoch milliseconds. */
  notBefore: number;
  notAfter: number;
  /** True when the certificate came from provisioning (its renewal is spread wider). */
  first: boolean;
}

/** Parses a PEM certificate; `undefined` when it is not one. */
export function parseCertificate(pem: string): x509.X509Certificate | undefined {
  try {
    return new x509.X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/** True when the private key `keyPem` belongs to `cert`. */
export async function keyMatches(keyPem: string, cert: x509.X509Certificate): Promise<boolean> {
  try {
    const keys = await importPrivateKeyPem(keyPem);
    const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
    return Buffer.from(spki).equals(Buffer.from(cert.publicKey.rawData));
  } catch {
    return false;
  }
}

/** Builds an {@link Identity} from a certificate and the key that matches it. */
export async function toIdentity(
  cert: x509.X509Certificate,
  certPem: string,
  keyPem: string,
  first: boolean,
): Promise<Identity> {
  return {
    keys: await importPrivateKeyPem(keyPem),
    certPem,
    keyPem,
    serial: cert.serialNumber.toLowerCase(),
    notBefore: cert.notBefore.getTime(),
    notAfter: cert.notAfter.getTime(),
    first,
  };
}
