/** The tenant CRL: signed again, under a new number from the database, after a revocation or once half its validity passed. */

import { CRL_VALIDITY_MS } from "../ca/authority.ts";
import { IotaError } from "../../core/errors.ts";
import type { DomainContext } from "./context.ts";

interface CachedCrl {
  /** The number the CRL carries. */
  crlNumber: number;
  /** The tenant's revocation counter (`TenantRecord.crlNumber`) the CRL's entries were read at. */
  revision: number;
  signedAt: number;
  pem: string;
}

/**
 * Serves each tenant's CRL from memory, consistent with the database across replicas. Every CRL it signs takes
 * a new number from the database (RFC 5280: CRL numbers only grow), so two replicas never sign different CRLs
 * under one number, and a re-signed CRL is never numbered like the one it replaces.
 */
export class CrlCache {
  private readonly cache = new Map<string, CachedCrl>();

  /** The current CRL of `tenant`, PEM (`X509 CRL`). */
  async get(ctx: DomainContext, tenant: string): Promise<string> {
    const record = await ctx.store.getTenant(tenant);
    if (!record) throw new IotaError("not-found", `No tenant named ${JSON.stringify(tenant)}`);
    const now = ctx.now();
    const cached = this.cache.get(tenant);
    if (
      cached &&
      cached.revision === record.crlNumber &&
      now - cached.signedAt < CRL_VALIDITY_MS / 2
    )
      return cached.pem;
    const ca = await ctx.tenants.ca(tenant);
    const next = await ctx.store.allocateCrl(tenant, now);
    if (!next) throw new IotaError("not-found", `No tenant named ${JSON.stringify(tenant)}`);
    const pem = await ca.crl(next.revoked, next.crlNumber, now);
    // Hint: requests that sign at once may finish out of order; the cache only moves to a greater number.
    const latest = this.cache.get(tenant);
    if (!latest || latest.crlNumber < next.crlNumber)
      this.cache.set(tenant, {
        crlNumber: next.crlNumber,
        revision: next.revision,
        signedAt: now,
        pem,
      });
    return pem;
  }
}
