/** Certificate requests a device must never get a certificate for: bad signature, wrong CN, RSA or P-384 keys, CA rights. */

import { createCsrPem, ECDSA_SHA256, generateDeviceKey } from "../../src/core/csr.ts";
import { crypto, x509 } from "../../src/core/x509.ts";
import { flipByte } from "./hostile-values.ts";
import { createPrng } from "./prng.ts";

/** One hostile CSR and why it must be refused. */
export interface HostileCsr {
  kind: string;
  pem: string;
}

/** A CSR for `name` made with `keys` and the given signature algorithm and extensions. */
async function csrWith(
  keys: CryptoKeyPair,
  name: string,
  signingAlgorithm: Algorithm | EcdsaParams,
  extensions: x509.Extension[] = [],
): Promise<string> {
  const csr = await x509.Pkcs10CertificateRequestGenerator.create(
    { name, keys, signingAlgorithm, extensions },
    crypto,
  );
  return csr.toString("pem");
}

/** The signature bit string is the last part of the DER: changing its final byte breaks the signature and nothing else. */
function badSignature(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, ""), "base64");
  return flipByte(createPrng(der.length), pem, der.length - 1);
}

/** Builds the hostile CSRs for `device` (key generation is slow, so once per test file). */
export async function hostileCsrs(device: string, sibling: string): Promise<HostileCsr[]> {
  const p256 = await generateDeviceKey();
  const p384 = (await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-384" }, true, [
    "sign",
    "verify",
  ])) as CryptoKeyPair;
  const rsa = (await crypto.subtle.generateKey(
    {
      name: "RSASSA-PKCS1-v1_5",
      modulusLength: 2048,
      publicExponent: new Uint8Array([1, 0, 1]),
      hash: "SHA-256",
    },
    true,
    ["sign", "verify"],
  )) as CryptoKeyPair;
  const good = await createCsrPem(p256, device);
  const caRights = [
    new x509.BasicConstraintsExtension(true, 0, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
  return [
    { kind: "bad signature", pem: badSignature(good) },
    { kind: "wrong CN (sibling)", pem: await createCsrPem(p256, sibling) },
    { kind: "wrong CN (upper case)", pem: await createCsrPem(p256, device.toUpperCase()) },
    { kind: "two CNs", pem: await csrWith(p256, `CN=${device}, CN=${sibling}`, ECDSA_SHA256) },
    { kind: "no CN", pem: await csrWith(p256, "O=iota", ECDSA_SHA256) },
    { kind: "RSA key", pem: await csrWith(rsa, `CN=${device}`, { name: "RSASSA-PKCS1-v1_5" }) },
    {
      kind: "P-384 key",
      pem: await csrWith(p384, `CN=${device}`, { name: "ECDSA", hash: "SHA-384" } as EcdsaParams),
    },
    {
      kind: "asks for CA rights",
      pem: await csrWith(p256, `CN=${device}`, ECDSA_SHA256, caRights),
    },
    {
      kind: "asks for CA rights, bad signature",
      pem: badSignature(await csrWith(p256, `CN=${device}`, ECDSA_SHA256, caRights)),
    },
    { kind: "a certificate, not a CSR", pem: (await selfSigned(p256, device)).toString("pem") },
  ];
}

/** A self-signed CA certificate for `device`'s key: PEM of the wrong kind for a CSR field, and a foreign certificate for /renew. */
export async function selfSigned(
  keys: CryptoKeyPair,
  device: string,
): Promise<x509.X509Certificate> {
  return await x509.X509CertificateGenerator.createSelfSigned(
    {
      serialNumber: "01",
      name: `CN=${device}`,
      notBefore: new Date(Date.now() - 60_000),
      notAfter: new Date(Date.now() + 86_400_000),
      keys,
      signingAlgorithm: ECDSA_SHA256,
      extensions: [
        new x509.SubjectAlternativeNameExtension([
          { type: "url", value: `iota://default/fuzz-group/${device}` },
        ]),
        new x509.BasicConstraintsExtension(true, 0, true),
      ],
    },
    crypto,
  );
}
