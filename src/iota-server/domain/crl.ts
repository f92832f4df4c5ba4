/**
 * The tenant CRL: one CRL in the database that every replica serves, signed again under a new number after a
 * revocation or once half its validity passed; and, while the database is unavailable, the last one this
 * replica signed or read, until its nextUpdate.
 */

import { CRL_VALIDITY_MS } from "../ca/authority.ts";
import { IotaError } from "../../core/errors.ts";
import { settleWithin } from "../../core/deadline.ts";
import type { SignedCrl } from "../store/store.ts";
import { DATABASE_RETRY_AFTER, databaseUnavailable } from "../store/unavailable.ts";
import type { DomainContext } from "./context.ts";
import { DEFAULT_TENANT } from "./tenants.ts";

/** How long `GET /v1/crl` waits for the database before it answers the CRL held (see {@link CrlCache}). */
const CRL_DEADLINE_MS = 5_000;

/**
 * Serves each tenant's CRL, consistent with the database across replicas. Every CRL signed takes a new number
 * from the database (RFC 5280: CRL numbers only grow) and is stored there unless a greater one was stored
 * meanwhile; replicas serve what is stored, so a load balancer never hands a broker a smaller number after a
 * greater one, and two replicas never sign different CRLs under one number.
 */
export class CrlCache {
  /** Per tenant, the newest CRL this process signed or read (the greatest number). */
  private readonly held = new Map<string, SignedCrl>();
  private refreshing: Promise<void> | undefined;

  /**
   * @param deadlineMs how long a request waits for the database before it is answered from memory. Hint: a
   * database cut off by the network (no reset, no refusal) leaves queries waiting for minutes; brokers need
   * their CRL before the HTTP listener's idle timeout (10 s) closes their connection.
   */
  constructor(private readonly deadlineMs = CRL_DEADLINE_MS) {}

  /** The current CRL of `tenant`, PEM (`X509 CRL`); while the database is unavailable, the one held, if valid. */
  async get(ctx: DomainContext, tenant: string): Promise<string> {
    try {
      return (await this.withinDeadline(this.current(ctx, tenant))).pem;
    } catch (error) {
      const code = databaseUnavailable(error);
      if (code === undefined) throw error;
      return this.fromMemory(ctx, tenant, code);
    }
  }

  /**
   * Reads (or signs) the current CRL of every tenant served so far and of the default tenant, so what this
   * process holds for a database outage lacks at most the revocations since the last refresh. Never throws.
   */
  async refresh(ctx: DomainContext): Promise<void> {
    // Hint: one at a time, so a database that does not answer does not gather a refresh every few seconds.
    this.refreshing ??= (async () => {
      for (const tenant of new Set([DEFAULT_TENANT, ...this.held.keys()])) {
        try {
          await this.current(ctx, tenant);
        } catch {
          // Hint: an unavailable database is logged by the requests that meet it; the next refresh tries again.
        }
      }
    })().finally(() => {
      this.refreshing = undefined;
    });
    await this.refreshing;
  }

  /** `work`, or an ETIMEDOUT error once the deadline passed (the work goes on, and what it reads is held). */
  private async withinDeadline<T>(work: Promise<T>): Promise<T> {
    return await settleWithin(work, this.deadlineMs, () => {
      throw Object.assign(new Error(`no answer from the database within ${this.deadlineMs} ms`), {
        code: "ETIMEDOUT",
      });
    });
  }

  /** The CRL the database says is current: the stored one while it is, else a new one signed and stored. */
  private async current(ctx: DomainContext, tenant: string): Promise<SignedCrl> {
    const state = await ctx.store.crlState(tenant);
    if (!state) throw new IotaError("not-found", `No tenant named ${JSON.stringify(tenant)}`);
    const now = ctx.now();
    const stored = state.signed;
    if (
      stored &&
      stored.revision === state.revision &&
      now - stored.signedAt < CRL_VALIDITY_MS / 2
    ) {
      const held = this.held.get(tenant);
      if (held && held.crlNumber === stored.crlNumber) return held;
      const read = await ctx.store.storedCrl(tenant);
      if (read) return this.hold(tenant, read);
    }
    const ca = await ctx.tenants.ca(tenant);
    const next = await ctx.store.allocateCrl(tenant, now);
    if (!next) throw new IotaError("not-found", `No tenant named ${JSON.stringify(tenant)}`);
    const pem = await ca.crl(next.revoked, next.crlNumber, now);
    const saved = await ctx.store.saveCrl(tenant, {
      crlNumber: next.crlNumber,
      revision: next.revision,
      signedAt: now,
      // Hint: the CRL carries nextUpdate in whole seconds.
      nextUpdate: Math.floor((now + CRL_VALIDITY_MS) / 1000) * 1000,
      pem,
    });
    return this.hold(tenant, saved);
  }

  /**
   * Keeps `crl` as the one held unless a greater number is held (requests finish in any order), and returns it.
   */
  private hold(tenant: string, crl: SignedCrl): SignedCrl {
    const held = this.held.get(tenant);
    if (!held || held.crlNumber < crl.crlNumber) this.held.set(tenant, crl);
    return crl;
  }

  /** The CRL held for a database outage while it is valid; a 503 saying why otherwise. */
  private fromMemory(ctx: DomainContext, tenant: string, code: string): string {
    const held = this.held.get(tenant);
    const now = ctx.now();
    if (held && now < held.nextUpdate) {
      ctx.log?.error(
        `GET /v1/crl: the database is unavailable (${code}); serving the CRL number ${held.crlNumber} signed at ${iso(held.signedAt)}, valid until ${iso(held.nextUpdate)}`,
      );
      return held.pem;
    }
    const why = held
      ? `the last CRL this replica holds (number ${held.crlNumber}) expired at ${iso(held.nextUpdate)}`
      : "this replica holds no CRL yet";
    ctx.log?.error(`GET /v1/crl failed: the database is unavailable (${code}) and ${why}`);
    throw new IotaError("unavailable", `The database is unavailable and ${why}; retry later`, {
      retryAfter: DATABASE_RETRY_AFTER,
    });
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
