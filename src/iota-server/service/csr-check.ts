/** Checks a device CSR before anything is issued: well-formed, self-signed, P-256, the right CN, no CA rights. */

import { x509 } from "../../core/x509.ts";
import { publicKeyHash } from "../../core/csr.ts";
import { decodePem, toArrayBuffer } from "../../core/pem.ts";
import { invalidField } from "../../core/problem.ts";

/** A CSR that passed every check. */
export interface CheckedCsr {
  publicKey: x509.PublicKey;
  /** SHA-256 hex of the SubjectPublicKeyInfo. */
  keyHash: string;
}

/** Parses and checks `pem` for `device`; throws a 400 naming the field `field` and the reason. */
export async function checkCsr(pem: string, device: string, field = "csr"): Promise<CheckedCsr> {
  const blocks = decodePem(pem);
  const block = blocks[0];
  if (blocks.length !== 1 || !block || (block.label !== "CERTIFICATE REQUEST" && block.label !== "NEW CERTIFICATE REQUEST")) {
    throw invalidField(field, "must be exactly one PEM block labelled CERTIFICATE REQUEST");
  }
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(toArrayBuffer(block.der));
  } catch {
    throw invalidField(field, "is not a valid PKCS#10 certificate request (DER does not parse)");
  }
  const algorithm = csr.publicKey.algorithm as EcKeyAlgorithm;
  if (algorithm.name !== "ECDSA" || algorithm.namedCurve !== "P-256") {
    const got = algorithm.namedCurve ? `${algorithm.name} ${algorithm.namedCurve}` : algorithm.name;
    throw invalidField(field, `has a ${got} key; IoTA device keys are ECDSA P-256`);
  }
  let verified = false;
  try {
    verified = await csr.verify();
  } catch {
    verified = false;
  }
  if (!verified) throw invalidField(field, "signature does not verify with its own public key (no proof of possession)");
  const cn = csr.subjectName.getField("CN");
  if (cn.length !== 1 || cn[0] !== device) {
    throw invalidField(field, `subject CN must be the device name ${JSON.stringify(device)}, got ${JSON.stringify(cn.join(","))}`);
  }
  const basic = csr.extensions.find((e): e is x509.BasicConstraintsExtension => e instanceof x509.BasicConstraintsExtension);
  if (basic?.ca) throw invalidField(field, "asks for CA rights (basicConstraints cA=TRUE); device certificates cannot sign");
  return { publicKey: csr.publicKey, keyHash: await publicKeyHash(csr.publicKey.rawData) };
}
