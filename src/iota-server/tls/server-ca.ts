/**
 * The server CA: the deployment's own TLS trust anchor, apart from the tenant CAs that sign devices.
 * It lives in the database (its key sealed under the master key) so every replica serves certificates
 * from the same CA, and it is written to `DATA/server-ca.pem` for the operator to hand out or pin.
 */

import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { decodePem } from "../../core/pem.ts";
import { CertificateAuthority } from "../ca/authority.ts";
import type { Sealer } from "../ca/sealer.ts";
import { writePublicFile } from "../data-dir.ts";
import type { Store } from "../store/store.ts";
import { SERVER_CA_NAME } from "./policy.ts";

/** The sealing context of the server CA's key. */
const SEAL_CONTEXT = "server-ca-key";

/** The server CA file in the data folder. */
export function serverCaPath(dataDir: string): string {
  return join(dataDir, "server-ca.pem");
}

/**
 * The server CA, created on the first start of the first replica (a replica that loses the race uses the
 * winner's); `DATA/server-ca.pem` is (re)written when it does not hold exactly this CA.
 */
export async function loadServerCa(
  store: Store,
  sealer: Sealer,
  dataDir: string,
  now: number,
): Promise<CertificateAuthority> {
  let record = await store.getServerCa();
  if (!record) {
    const { ca, keyPem } = await CertificateAuthority.createRoot(SERVER_CA_NAME, now);
    const fresh = {
      caCert: ca.certPem,
      caKeySealed: sealer.seal(keyPem, SEAL_CONTEXT),
      createdAt: now,
    };
    if (!(await store.insertServerCa(fresh))) record = await store.getServerCa();
    record ??= fresh;
  }
  const ca = await CertificateAuthority.load(
    record.caCert,
    sealer.open(record.caKeySealed, SEAL_CONTEXT),
  );
  const path = serverCaPath(dataDir);
  if (!existsSync(path) || readFileSync(path, "utf8") !== ca.certPem)
    writePublicFile(path, ca.certPem);
  return ca;
}

/** The SHA-256 fingerprint of a PEM certificate as `openssl x509 -noout -fingerprint -sha256` prints it. */
export function sha256Fingerprint(certPem: string): string {
  const der = decodePem(certPem)[0]?.der;
  if (!der) throw new Error("not a PEM certificate");
  const hex = createHash("sha256").update(der).digest("hex").toUpperCase();
  return hex.match(/../g)?.join(":") ?? hex;
}
