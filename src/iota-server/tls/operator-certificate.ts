/** The operator's own TLS certificate (`--tls-cert`, `--tls-key`), read and checked before it is served. */

import { X509Certificate, createPrivateKey, type KeyObject } from "node:crypto";
import { readFileSync } from "node:fs";
import { decodePem, encodePem } from "../../core/pem.ts";

/** A checked operator certificate chain and its key. */
export interface OperatorCertificate {
  /** The chain as PEM (leaf first), as served. */
  certPem: string;
  keyPem: string;
  notAfter: number;
  /** The chain's root, when the file ends with a self-signed certificate (what `GET /v1/server-ca` answers). */
  rootPem: string | undefined;
}

/** Reads a file's text; the error names the flag and the file. */
function read(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new Error(`${flag} ${path}: cannot read it (${code ?? (error as Error).message})`);
  }
}

/**
 * Reads and checks `certFile` (one or more PEM certificates, leaf first) and `keyFile` (its private key,
 * PEM): every block parses, the key belongs to the leaf, the leaf has not expired. Throws an Error whose
 * message names the flag, the file and what is wrong.
 */
export function readOperatorCertificate(
  certFile: string,
  keyFile: string,
  now: number,
): OperatorCertificate {
  const blocks = decodePem(read(certFile, "--tls-cert")).filter((b) => b.label === "CERTIFICATE");
  if (blocks.length === 0) throw new Error(`--tls-cert ${certFile}: holds no PEM certificate`);
  let chain: X509Certificate[];
  try {
    chain = blocks.map((b) => new X509Certificate(Buffer.from(b.der)));
  } catch (error) {
    throw new Error(
      `--tls-cert ${certFile}: a certificate does not parse (${(error as Error).message})`,
    );
  }
  const keyPem = read(keyFile, "--tls-key");
  let key: KeyObject;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new Error(
      `--tls-key ${keyFile}: is not a PEM private key (an encrypted key is not supported)`,
    );
  }
  const leaf = chain[0] as X509Certificate;
  if (!leaf.checkPrivateKey(key))
    throw new Error(`--tls-key ${keyFile}: is not the key of the first certificate in ${certFile}`);
  const notAfter = leaf.validToDate.getTime();
  if (notAfter <= now)
    throw new Error(
      `--tls-cert ${certFile}: the certificate expired at ${leaf.validToDate.toISOString()}`,
    );
  const last = chain[chain.length - 1] as X509Certificate;
  const selfSigned = last.checkIssued(last) && last.verify(last.publicKey);
  return {
    certPem: chain.map((c) => encodePem(c.raw, "CERTIFICATE")).join(""),
    keyPem,
    notAfter,
    rootPem: selfSigned ? encodePem(last.raw, "CERTIFICATE") : undefined,
  };
}
