/** Tenants: the default tenant created on first start, admin tokens, and each tenant's CA in memory. */

import { createHash, randomBytes } from "node:crypto";
import { CertificateAuthority } from "../ca/authority.ts";
import type { Sealer } from "../ca/sealer.ts";
import type { Store } from "../store/store.ts";
import { IotaError } from "../../core/errors.ts";

/** The tenant a fresh server creates. */
export const DEFAULT_TENANT = "default";

/** Admin tokens are stored as their SHA-256; the token itself is shown once. */
export function hashAdminToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** A new admin token: `iota_` and 256 random bits. */
export function newAdminToken(): string {
  return `iota_${randomBytes(32).toString("base64url")}`;
}

/** Loads tenants and keeps their CAs, unsealed once, in memory. */
export class Tenants {
  private readonly cas = new Map<string, Promise<CertificateAuthority>>();

  constructor(
    private readonly store: Store,
    private readonly sealer: Sealer,
  ) {}

  /**
   * Creates a tenant with a new CA and a first admin token, returned once.
   * `undefined` when the tenant exists already (another replica may have created it).
   */
  async create(id: string, now: number): Promise<{ adminToken: string } | undefined> {
    const { ca, keyPem } = await CertificateAuthority.create(id, now);
    const adminToken = newAdminToken();
    const tenant = {
      id,
      caCert: ca.certPem,
      caKeySealed: this.sealer.seal(keyPem, `ca-key:${id}`),
      createdAt: now,
    };
    // Hint: the token goes in with the tenant, so a replica that loses the race (or dies half-way) leaves no tenant without a token.
    if (!(await this.store.insertTenant(tenant, hashAdminToken(adminToken)))) return undefined;
    return { adminToken };
  }

  /** Adds another admin token to a tenant and returns it. */
  async addAdminToken(id: string, now: number): Promise<string> {
    const token = newAdminToken();
    await this.store.insertAdminToken(hashAdminToken(token), id, now);
    return token;
  }

  /** The tenant an admin token belongs to; 401 when the token is unknown. */
  async authenticate(token: string): Promise<string> {
    const tenant = await this.store.tenantIdForToken(hashAdminToken(token));
    if (!tenant)
      throw new IotaError("unauthorized", "The admin token is not valid for this service");
    return tenant;
  }

  /** The CA of a tenant; 404 when there is no such tenant. */
  async ca(id: string): Promise<CertificateAuthority> {
    let ca = this.cas.get(id);
    if (!ca) {
      ca = this.loadCa(id);
      this.cas.set(id, ca);
      ca.catch(() => this.cas.delete(id));
    }
    return await ca;
  }

  private async loadCa(id: string): Promise<CertificateAuthority> {
    const tenant = await this.store.getTenant(id);
    if (!tenant) throw new IotaError("not-found", `No tenant named ${JSON.stringify(id)}`);
    return await CertificateAuthority.load(
      tenant.caCert,
      this.sealer.open(tenant.caKeySealed, `ca-key:${id}`),
    );
  }
}
