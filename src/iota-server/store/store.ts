/** The storage interface of iota-server: everything the service keeps, behind one async contract. */

import type { Enrollment } from "../../core/enrollment.ts";
import type { DeviceState } from "../../core/wire.ts";
import type { FleetStore } from "./fleet-store.ts";

/** A tenant row. */
export interface TenantRecord {
  id: string;
  caCert: string;
  caKeySealed: string;
  /**
   * Bumped in the same transaction as every revocation of the tenant's certificates, so a change tells the CRL
   * cache and the embedded broker that the revoked set moved. Not the number a CRL carries: that comes from
   * {@link Store.allocateCrl}, once per signed CRL (the column keeps its older name, `crl_number`).
   */
  crlNumber: number;
  createdAt: number;
}

/** The TLS server CA of the deployment (one row, shared by every replica); its key is sealed. */
export interface ServerCaRecord {
  caCert: string;
  caKeySealed: string;
  createdAt: number;
}

/** What one CRL is signed with: its number and the revocations it lists, read together. */
export interface CrlAllocation {
  /** The CRL number (RFC 5280 5.2.3): greater than every number allocated before for the tenant. */
  crlNumber: number;
  /** The tenant's {@link TenantRecord.crlNumber} the revocations were read at. */
  revision: number;
  /** Revoked certificates that have not expired, as {@link Store.listRevoked}. */
  revoked: { serial: string; revokedAt: number }[];
}

/** A signed CRL as the database keeps it: the tenant's newest, served by every replica. */
export interface SignedCrl {
  /** The number it carries ({@link CrlAllocation.crlNumber}). */
  crlNumber: number;
  /** The tenant's revocation counter its entries were read at. */
  revision: number;
  /** Epoch ms it was signed at, and its nextUpdate. */
  signedAt: number;
  nextUpdate: number;
  /** PEM (`X509 CRL`). */
  pem: string;
}

/** A tenant's revocation counter and the stored CRL without its text: what tells whether that CRL is current. */
export interface CrlState {
  revision: number;
  /** The stored CRL; undefined before the first is signed. */
  signed: Omit<SignedCrl, "pem"> | undefined;
}

/** A group row; the secret is sealed under the master key. Its enrollment says what the secret may create. */
export type GroupRecord = Enrollment & {
  tenantId: string;
  name: string;
  secretSealed: string;
  validity: number;
  grace: number;
  createdAt: number;
  secretRotatedAt: number;
};

/** What {@link Store.enrollDevice} did. */
export type EnrollResult =
  /** The device was created (and counted against its group's hourly limit). */
  | { kind: "created" }
  /** It exists already (another request created it meanwhile): provision it as usual. */
  | { kind: "exists" }
  /** The group may not create it: its hourly limit is used up (`retryAfterMs`), or it no longer enrolls. */
  | { kind: "refused"; retryAfterMs: number | null };

/** A device row. Times are epoch milliseconds. */
export interface DeviceRecord {
  tenantId: string;
  group: string;
  name: string;
  state: DeviceState;
  serial: string | null;
  keyHash: string | null;
  certificate: string | null;
  notBefore: number | null;
  notAfter: number | null;
  /** The current certificate came from provisioning (its renewal is spread wider). */
  firstIssue: boolean;
  prevSerial: string | null;
  provisionedAt: number | null;
  lastRenewal: number | null;
  createdAt: number;
  /**
   * After an operator's reset: the public key (SubjectPublicKeyInfo DER, base64) the device held before, which
   * it must prove it still holds to provision again; null when any key may provision.
   */
  recoveryKey: string | null;
  /** The planned renewal of the current certificate (as the service answered it); null without one. */
  renewAt: number | null;
  /** Readiness reported by a watched broker: true online, false offline, null never seen. */
  online: boolean | null;
  /** When the readiness last changed; null when never seen. */
  seenAt: number | null;
  /** When the group's credential created the device on its first provisioning (enrollment `any`); null otherwise. */
  enrolledAt: number | null;
}

/** An issued certificate, as the CRL and renewal need it. */
export interface CertificateRecord {
  serial: string;
  tenantId: string;
  group: string;
  device: string;
  notAfter: number;
  issuedAt: number;
  revokedAt: number | null;
}

/** An issued certificate with the serial of its device's current certificate (null: none, or no such device). */
export type CertificateStanding = CertificateRecord & { currentSerial: string | null };

/** A new certificate for a device, written together with the device's new state. */
export interface Issuance {
  serial: string;
  keyHash: string;
  certificate: string;
  notBefore: number;
  notAfter: number;
  issuedAt: number;
  /** Its planned renewal, when the caller computed it already; else the store computes it (tally-sql.ts). */
  renewAt?: number;
}

/** A device addressed by tenant, group and name. */
export interface DeviceKey {
  tenantId: string;
  group: string;
  name: string;
}

/** What {@link Store.createDevice} did. */
export type DeviceCreation = "created" | "replayed" | "exists";

/** The store. Methods that can lose a race say so in their result instead of throwing. */
export interface Store extends FleetStore {
  /** Applies pending migrations; safe to call from several replicas at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Resolves once the database answered a trivial query (a readiness probe); rejects with its error. */
  answers(): Promise<void>;

  getTenant(id: string): Promise<TenantRecord | undefined>;
  /**
   * Inserts a tenant, and with it its first admin token when given, in one transaction (so a replica that
   * stops half-way cannot leave a tenant nobody may administer); false when the tenant exists already.
   */
  insertTenant(tenant: Omit<TenantRecord, "crlNumber">, adminTokenHash?: string): Promise<boolean>;
  insertAdminToken(tokenHash: string, tenantId: string, now: number): Promise<void>;
  /** Replaces every admin token of a tenant with one, in one transaction; how many it replaced. */
  replaceAdminTokens(tenantId: string, tokenHash: string, now: number): Promise<number>;
  tenantIdForToken(tokenHash: string): Promise<string | undefined>;

  getServerCa(): Promise<ServerCaRecord | undefined>;
  /** Inserts the server CA; false when one exists already (another replica created it first). */
  insertServerCa(ca: ServerCaRecord): Promise<boolean>;

  /** Inserts a group; false when a group of that name exists. */
  insertGroup(group: GroupRecord): Promise<boolean>;
  getGroup(tenantId: string, name: string): Promise<GroupRecord | undefined>;
  listGroups(tenantId: string): Promise<(GroupRecord & { deviceCount: number })[]>;
  countDevices(tenantId: string, group: string): Promise<number>;
  /** Deletes a group and its devices, revoking their live certificates; false when it did not exist. */
  deleteGroup(tenantId: string, name: string, now: number): Promise<boolean>;
  setGroupSecret(
    tenantId: string,
    name: string,
    secretSealed: string,
    now: number,
  ): Promise<boolean>;
  /** Replaces a group's enrollment; false when the group does not exist. */
  setGroupEnrollment(tenantId: string, name: string, enrollment: Enrollment): Promise<boolean>;
  /**
   * Creates a device for its group's credential (enrollment `any`), within the group's hourly limit, in one
   * transaction: the device is created only if the group still enrolls and a slot of its current hour is
   * free, whichever replica asks.
   */
  enrollDevice(key: DeviceKey, now: number): Promise<EnrollResult>;

  /** Inserts devices in one transaction; returns the names that were new. */
  insertDevices(tenantId: string, group: string, names: string[], now: number): Promise<string[]>;
  /**
   * Creates one device, recording `creationKey` (a client's Idempotency-Key, when it gave one) with it: `created`,
   * `replayed` when the device exists and was created with that same key (the same request sent again), `exists`
   * otherwise.
   */
  createDevice(
    key: DeviceKey,
    now: number,
    creationKey: string | undefined,
  ): Promise<DeviceCreation>;
  getDevice(key: DeviceKey): Promise<DeviceRecord | undefined>;
  listDevices(
    tenantId: string,
    group: string,
    limit: number,
    after?: string,
  ): Promise<DeviceRecord[]>;
  /** Deletes a device, revoking its live certificates; false when it did not exist. */
  /** Deletes a device; `heldKey` (its key, SPKI DER base64) must be proved if the name is created again. */
  deleteDevice(key: DeviceKey, now: number, heldKey?: string): Promise<boolean>;

  /**
   * Records a certificate issued by provisioning, only if the device is still `created`.
   * False when another request provisioned it first.
   */
  recordProvisioned(key: DeviceKey, issuance: Issuance): Promise<boolean>;
  /** Records a renewal, only if the device's current serial is still `fromSerial`. False when it changed. */
  recordRenewed(key: DeviceKey, fromSerial: string, issuance: Issuance): Promise<boolean>;
  /** Marks the device revoked and its live certificates revoked; returns the number of certificates revoked. */
  revokeDevice(key: DeviceKey, now: number): Promise<number>;
  /**
   * Back to `created` so the device may provision again; its live certificates are revoked. `recoveryKey` is
   * the key it must prove it holds to do so (null: any key; undefined: keep the one recorded by an earlier reset).
   */
  resetDevice(key: DeviceKey, now: number, recoveryKey: string | null | undefined): Promise<number>;

  /**
   * The certificate with `serial` the service issued to `device`; undefined when it issued none such to that device.
   * Hint: asked by device as well as serial, since certificates are kept by device (schema migration 6).
   */
  getCertificate(device: DeviceKey, serial: string): Promise<CertificateRecord | undefined>;
  /**
   * {@link getCertificate} and the device's current serial, in one read of two primary keys: what the embedded broker
   * asks at every connect and re-check, since only the current certificate may connect.
   */
  getCertificateStanding(
    device: DeviceKey,
    serial: string,
  ): Promise<CertificateStanding | undefined>;
  /** Revoked certificates of a tenant that have not expired at `now`. */
  listRevoked(tenantId: string, now: number): Promise<{ serial: string; revokedAt: number }[]>;
  /**
   * Takes the next CRL number of a tenant and reads the revocations to list, in one transaction; undefined when
   * there is no such tenant. Numbers are unique and grow across replicas, and a CRL with a greater number lists
   * every unexpired revocation a smaller one listed.
   */
  allocateCrl(tenantId: string, now: number): Promise<CrlAllocation | undefined>;
  /** The revocation counter and the stored CRL's numbers, in one small read; undefined when there is no such tenant. */
  crlState(tenantId: string): Promise<CrlState | undefined>;
  /** The stored CRL, text included. */
  storedCrl(tenantId: string): Promise<SignedCrl | undefined>;
  /** Stores `crl` unless one with a greater number is stored; returns the stored CRL after that. */
  saveCrl(tenantId: string, crl: SignedCrl): Promise<SignedCrl>;
}
