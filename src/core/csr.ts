/** Device keys and certificate requests: made on the device, checked by the service. */

import { crypto, x509 } from "./x509.ts";
import { encodePem } from "./pem.ts";

/** ECDSA P-256 with SHA-256: the only key and signature algorithm of IoTA device identities. */
export const EC_P256: EcKeyGenParams = { name: "ECDSA", namedCurve: "P-256" };
export const ECDSA_SHA256: EcdsaParams = { name: "ECDSA", hash: "SHA-256" };

/** Generates a device key pair with WebCrypto. Extractable so it can be stored on the device. */
export async function generateDeviceKey(): Promise<CryptoKeyPair> {
  return (await crypto.subtle.generateKey(EC_P256, true, ["sign", "verify"])) as CryptoKeyPair;
}

/** PKCS#8 PEM of a private key. */
export async function exportPrivateKeyPem(key: CryptoKey): Promise<string> {
  return encodePem(await crypto.subtle.exportKey("pkcs8", key), "PRIVATE KEY");
}

/** The key pair stored as PKCS#8 PEM; the public half is derived from it. */
export async function importPrivateKeyPem(pem: string): Promise<CryptoKeyPair> {
  const der = x509.PemConverter.decodeFirst(pem);
  const privateKey = await crypto.subtle.importKey("pkcs8", der, EC_P256, true, ["sign"]);
  const jwk = await crypto.subtle.exportKey("jwk", privateKey);
  delete jwk.d;
  jwk.key_ops = ["verify"];
  const publicKey = await crypto.subtle.importKey("jwk", jwk, EC_P256, true, ["verify"]);
  return { privateKey, publicKey };
}

/** A PEM CSR for `device` (CN = device name), signed by the key it certifies. */
export async function createCsrPem(keys: CryptoKeyPair, device: string): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${device}`,
    keys,
    signingAlgorithm: ECDSA_SHA256,
  });
  return csr.toString("pem");
}

/** SHA-256 (hex) of the SubjectPublicKeyInfo DER: how IoTA recognises a key across requests. */
export async function publicKeyHash(spki: ArrayBuffer): Promise<string> {
  return Buffer.from(await crypto.subtle.digest("SHA-256", spki)).toString("hex");
}
