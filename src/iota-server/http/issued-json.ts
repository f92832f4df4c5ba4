/** The issued-certificate answer as JSON text: the same bytes as `JSON.stringify`, with the CA's part escaped once. */

import type { IssuedCertificate } from "../../core/wire.ts";

/** A JSON string literal's contents (without the quotes). */
const escaped = (text: string): string => JSON.stringify(text).slice(1, -1);

/**
 * Writes `JSON.stringify(issued)` in the interface's key order, remembering the escaped CA certificate
 * (one per tenant, the same text on every answer). Hint: the certificate appears twice (alone and first
 * in the chain) and the CA twice, so each is escaped once; joining escaped parts equals escaping the
 * joined text because PEM is ASCII, so no surrogate pair can straddle the join.
 */
export class IssuedJson {
  private lastCa = "";
  private lastCaJson = "";

  /** The JSON text of `issued`. */
  write(issued: IssuedCertificate): string {
    const { certificate, chain, ca } = issued;
    if (
      chain.length !== certificate.length + ca.length ||
      !chain.startsWith(certificate) ||
      !chain.endsWith(ca)
    )
      return JSON.stringify(issued);
    if (ca !== this.lastCa) {
      this.lastCaJson = escaped(ca);
      this.lastCa = ca;
    }
    const cert = escaped(certificate);
    const caJson = this.lastCaJson;
    return `{"certificate":"${cert}","chain":"${cert}${caJson}","ca":"${caJson}","serial":${JSON.stringify(issued.serial)},"notBefore":${JSON.stringify(issued.notBefore)},"notAfter":${JSON.stringify(issued.notAfter)},"renewAt":${JSON.stringify(issued.renewAt)}}`;
  }
}
