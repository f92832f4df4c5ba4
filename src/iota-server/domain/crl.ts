/** The tenant CRL: signed again whenever a revocation bumps the tenant's CRL number, or half its validity passed. */

import { CRL_VALIDITY_MS } from "../ca/authority.ts";
import { IotaError } from "../../core/errors.ts";
import type { DomainContext } from "./context.ts";

interface CachedCrl {
  crlNumber: number;
  signedAt: number;
  pem: string;
}

/** Serves each tenant's CRL from memory, consistent with the database across replicas. */
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
      cached.crlNumber === record.crlNumber &&
      now - cached.signedAt < CRL_VALIDITY_MS / 2
    )
      return cached.pem;
    const ca = await ctx.tenants.ca(tenant);
    const revoked = await ctx.store.listRevoked(tenant, now);
    const pem = await ca.crl(revoked, record.crlNumber, now);
    this.cache.set(tenant, { crlNumber: record.crlNumber, signedAt: now, pem });
    return pem;
  }
}
