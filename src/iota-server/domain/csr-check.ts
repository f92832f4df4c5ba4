/** Checks a device CSR before anything is issued: well-formed, self-signed, P-256, the right CN, no CA rights. */

import { createHash } from "node:crypto";
import { crypto, x509 } from "../../core/x509.ts";
import { EC_P256 } from "../../core/csr.ts";
import { decodePem, toArrayBuffer } from "../../core/pem.ts";
import { invalidField } from "../../core/errors.ts";
import {
  hasCsrFrame,
  hasExplicitCurve,
  isCanonicalP256Spki,
  readPlainCsr,
  type PlainCsr,
} from "./csr-reader.ts";
import { importP256, verifyP256 } from "./p256-verify.ts";

/** A CSR that passed every check. */
export interface CheckedCsr {
  /** The key's SubjectPublicKeyInfo DER, canonical (see isCanonicalP256Spki), as the CA copies it into the certificate. */
  publicKey: Uint8Array;
  /** SHA-256 hex of the canonical SubjectPublicKeyInfo: the key's identity. */
  keyHash: string;
}

/** SHA-256 hex of an SPKI (the same value as core's publicKeyHash, computed synchronously). */
function keyHash(spki: Uint8Array): string {
  return createHash("sha256").update(spki).digest("hex");
}

/**
 * The identity of a P-256 key given in any SPKI encoding: the SHA-256 hex of its canonical encoding, which a
 * WebCrypto import and export yields. Equal to a CSR's `keyHash` exactly when both hold the same key.
 */
export async function keyIdentity(spki: Uint8Array): Promise<string> {
  if (isCanonicalP256Spki(spki)) return keyHash(spki);
  const key = await crypto.subtle.importKey("spki", new Uint8Array(spki), EC_P256, true, [
    "verify",
  ]);
  return keyHash(new Uint8Array(await crypto.subtle.exportKey("spki", key)));
}

/** Why a P-256 SPKI that is not canonical is refused, for the `csr` field's message. */
function keyEncodingProblem(spki: Uint8Array): string {
  // Hint: a compressed point's SPKI is 59 bytes ending in the BIT STRING 00 02|03 X.
  const compressed = spki.length === 59 && (spki[26] === 0x02 || spki[26] === 0x03);
  const what = compressed ? "as a compressed point" : "in a non-canonical encoding";
  return `carries its public key ${what}; IoTA takes a P-256 key only as the uncompressed point with the named curve (RFC 5480), so that one key has one encoding`;
}

/**
 * Why a CSR's signature algorithm is refused; undefined for ECDSA with SHA-256, the one IoTA takes (the plain
 * shape's reader takes no other). Hint: @peculiar/x509 verifies any hash the request names, SHA-1 included.
 */
export function signatureProblem(algorithm: { name?: string; hash?: unknown }): string | undefined {
  const hash = (algorithm.hash as { name?: string } | undefined)?.name;
  if (algorithm.name === "ECDSA" && hash === "SHA-256") return undefined;
  const got = hash
    ? `${algorithm.name ?? "an unknown algorithm"} with ${hash}`
    : (algorithm.name ?? "an unknown algorithm");
  return `is signed with ${got}; IoTA takes device requests signed with ECDSA and SHA-256`;
}

/**
 * The checks on the plain CSR shape, its signature verified on the raw bytes; undefined when the key will not
 * import (a point off the curve), which the general parser then names.
 */
async function checkPlain(
  csr: PlainCsr,
  device: string,
  field: string,
): Promise<CheckedCsr | undefined> {
  const key = await importP256(csr.spki);
  if (!key) return undefined;
  if (!(await verifyP256(key, csr.signature, csr.info)))
    throw invalidField(
      field,
      "signature does not verify with its own public key (no proof of possession)",
    );
  const cn = csr.commonNames;
  if (cn.length !== 1 || cn[0] !== device) {
    throw invalidField(
      field,
      `subject CN must be the device name ${JSON.stringify(device)}, got ${JSON.stringify(cn.join(","))}`,
    );
  }
  // Hint: the plain shape has no attributes, so no extension request and no basicConstraints to refuse.
  return { publicKey: csr.spki.slice(), keyHash: keyHash(csr.spki) };
}

/** Parses and checks `pem` for `device`; throws a 400 naming the field `field` and the reason. */
export async function checkCsr(pem: string, device: string, field = "csr"): Promise<CheckedCsr> {
  const blocks = decodePem(pem);
  const block = blocks[0];
  if (
    blocks.length !== 1 ||
    !block ||
    (block.label !== "CERTIFICATE REQUEST" && block.label !== "NEW CERTIFICATE REQUEST")
  ) {
    throw invalidField(field, "must be exactly one PEM block labelled CERTIFICATE REQUEST");
  }
  // Hint: the plain shape every IoTA device sends takes a lean DER walk (~9x cheaper); anything else the full parser.
  const plain = readPlainCsr(new Uint8Array(block.der));
  const fast = plain && (await checkPlain(plain, device, field));
  if (fast) return fast;
  let csr: x509.Pkcs10CertificateRequest;
  try {
    if (!hasCsrFrame(block.der)) throw new Error("not framed as a PKCS#10 request");
    csr = new x509.Pkcs10CertificateRequest(toArrayBuffer(block.der));
  } catch {
    throw invalidField(field, "is not a valid PKCS#10 certificate request (DER does not parse)");
  }
  const algorithm = csr.publicKey.algorithm as EcKeyAlgorithm;
  const spki = new Uint8Array(csr.publicKey.rawData);
  if (hasExplicitCurve(spki))
    throw invalidField(
      field,
      "has an EC key with explicit curve parameters; IoTA device keys are ECDSA P-256 with the named curve (RFC 5480)",
    );
  if (algorithm.name !== "ECDSA" || algorithm.namedCurve !== "P-256") {
    const got = algorithm.namedCurve ? `${algorithm.name} ${algorithm.namedCurve}` : algorithm.name;
    throw invalidField(field, `has a ${got} key; IoTA device keys are ECDSA P-256`);
  }
  if (!isCanonicalP256Spki(spki)) throw invalidField(field, keyEncodingProblem(spki));
  const signedWith = signatureProblem(csr.signatureAlgorithm);
  if (signedWith) throw invalidField(field, signedWith);
  let verified = false;
  try {
    verified = await csr.verify();
  } catch {
    verified = false;
  }
  if (!verified)
    throw invalidField(
      field,
      "signature does not verify with its own public key (no proof of possession)",
    );
  const cn = csr.subjectName.getField("CN");
  if (cn.length !== 1 || cn[0] !== device) {
    throw invalidField(
      field,
      `subject CN must be the device name ${JSON.stringify(device)}, got ${JSON.stringify(cn.join(","))}`,
    );
  }
  const basic = csr.extensions.find(
    (e): e is x509.BasicConstraintsExtension => e instanceof x509.BasicConstraintsExtension,
  );
  if (basic?.ca)
    throw invalidField(
      field,
      "asks for CA rights (basicConstraints cA=TRUE); device certificates cannot sign",
    );
  return { publicKey: spki, keyHash: keyHash(spki) };
}
