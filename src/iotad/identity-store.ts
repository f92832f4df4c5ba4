/**
 * The device's key and certificate on disk, laid out so that a power cut at any instant leaves a
 * matching pair: a new key is first saved as `key.pending.pem`, the new certificate replaces
 * `cert.pem`, then the pending key replaces `key.pem`. Recovery on start finishes a half-done swap.
 */

import { join } from "node:path";
import {
  createCsrPem,
  exportPrivateKeyPem,
  generateDeviceKey,
  importPrivateKeyPem,
} from "../core/csr.ts";
import type { IssuedCertificate } from "../core/wire.ts";
import { type Disk, renameDurably, writeAtomic } from "./disk.ts";
import { type ConfiguredDevice, otherDeviceProblem } from "./held-owner.ts";
import { type Identity, keyMatches, parseCertificate, toIdentity } from "./identity.ts";

/** The files of the data folder. */
export interface IdentityPaths {
  dir: string;
  /** The private key of the current certificate (PKCS#8 PEM, 0600). */
  key: string;
  /** The current certificate (PEM). */
  cert: string;
  /** The tenant CA (PEM), as the last answer gave it. */
  ca: string;
  /** A key waiting for its certificate: saved before its CSR is sent, so a lost answer is retried with it. */
  pendingKey: string;
  /** `{ serial, first }`: whether the current certificate came from provisioning. */
  meta: string;
}

/** What recovery found on disk. */
export type Recovered =
  | { kind: "empty" }
  | { kind: "held"; identity: Identity }
  | { kind: "broken"; reason: string }
  /** The certificate names another device than the config: neither used nor replaced (`reason` names both). */
  | { kind: "foreign"; reason: string };

/** The paths inside `dir`. */
export function identityPaths(dir: string): IdentityPaths {
  return {
    dir,
    key: join(dir, "key.pem"),
    cert: join(dir, "cert.pem"),
    ca: join(dir, "ca.pem"),
    pendingKey: join(dir, "key.pending.pem"),
    meta: join(dir, "identity.json"),
  };
}

/** Reads, recovers and replaces the device identity in its data folder. */
export class IdentityStore {
  readonly paths: IdentityPaths;

  /** `owner`: the device the config names; a certificate of another device is then reported, not used. */
  constructor(
    private readonly disk: Disk,
    dir: string,
    private readonly owner?: ConfiguredDevice,
  ) {
    this.paths = identityPaths(dir);
  }

  /** Creates the data folder (0700) and finishes whatever a power cut interrupted. */
  async recover(): Promise<Recovered> {
    this.disk.ensureDir(this.paths.dir, 0o700);
    for (const name of this.disk.list(this.paths.dir)) {
      if (name.endsWith(".tmp")) this.disk.remove(join(this.paths.dir, name));
    }
    const certPem = this.disk.read(this.paths.cert);
    if (certPem === undefined) return { kind: "empty" };
    const cert = parseCertificate(certPem);
    if (!cert) return { kind: "broken", reason: `${this.paths.cert} is not a PEM certificate` };
    // Hint: checked before the key, so nothing of the other device's (not even a half-done swap) is touched.
    const other = this.owner && otherDeviceProblem(cert, this.owner, this.paths.dir);
    if (other !== undefined) return { kind: "foreign", reason: other };
    let keyPem = this.disk.read(this.paths.key);
    if (keyPem === undefined || !(await keyMatches(keyPem, cert))) {
      const pending = this.disk.read(this.paths.pendingKey);
      if (pending === undefined || !(await keyMatches(pending, cert))) {
        return {
          kind: "broken",
          reason: `neither ${this.paths.key} nor ${this.paths.pendingKey} is the key of ${this.paths.cert}`,
        };
      }
      // The power went out between writing the new certificate and moving its key in place: finish the swap.
      renameDurably(this.disk, this.paths.pendingKey, this.paths.key);
      keyPem = pending;
    }
    const serial = cert.serialNumber.toLowerCase();
    const meta = this.readMeta();
    // Hint: meta is written last; a certificate newer than meta came from provisioning when there was no meta at all.
    const first = meta === undefined ? true : meta.serial === serial ? meta.first : false;
    if (meta?.serial !== serial) this.writeMetaIfPossible(serial, first);
    return { kind: "held", identity: await toIdentity(cert, certPem, keyPem, first) };
  }

  /**
   * The key for the next provisioning or renewal request and its CSR: the pending key when one is
   * saved (a retry must use the same key), else a new one, saved before anything is sent.
   */
  async nextRequestKey(
    device: string,
    current?: Identity,
  ): Promise<{ keys: CryptoKeyPair; keyPem: string; csr: string }> {
    let keyPem = this.disk.read(this.paths.pendingKey);
    if (keyPem !== undefined && current !== undefined && keyPem === current.keyPem)
      keyPem = undefined;
    let keys: CryptoKeyPair | undefined;
    if (keyPem !== undefined) {
      try {
        keys = await importPrivateKeyPem(keyPem);
      } catch {
        keyPem = undefined;
      }
    }
    if (keys === undefined || keyPem === undefined) {
      keys = await generateDeviceKey();
      keyPem = await exportPrivateKeyPem(keys.privateKey);
      writeAtomic(this.disk, this.paths.pendingKey, keyPem);
    }
    return { keys, keyPem, csr: await createCsrPem(keys, device) };
  }

  /**
   * True when a pending key other than `current`'s waits on disk: a request made with it may have been
   * answered by the service (the answer lost to a crash or a cut connection), so it should be retried now.
   */
  hasPendingKey(current: Identity): boolean {
    const pending = this.disk.read(this.paths.pendingKey);
    return pending !== undefined && pending !== current.keyPem;
  }

  /**
   * Before provisioning again over an unusable `cert.pem`: makes `key.pem` the pending key (when no pending
   * key waits), so the service, which recorded that key, can answer with the certificate it stored for it.
   */
  adoptCurrentKey(): void {
    if (this.disk.read(this.paths.pendingKey) !== undefined) return;
    const keyPem = this.disk.read(this.paths.key);
    if (keyPem !== undefined) writeAtomic(this.disk, this.paths.pendingKey, keyPem);
  }

  /**
   * Forgets a pending key that is only a copy of `key.pem` (see {@link adoptCurrentKey}) once the service
   * refused it, so the next attempt makes a new key; a pending key of its own is kept, since a lost answer
   * may have certified it.
   */
  discardAdoptedKey(): void {
    const pending = this.disk.read(this.paths.pendingKey);
    if (pending === undefined || pending !== this.disk.read(this.paths.key)) return;
    this.disk.remove(this.paths.pendingKey);
    this.disk.syncDir(this.paths.dir);
  }

  /**
   * Installs an issued certificate for the pending key: CA, certificate, then key, then meta.
   * The old pair stays on disk and in use until this returns.
   */
  async install(issued: IssuedCertificate, keyPem: string, first: boolean): Promise<Identity> {
    const cert = parseCertificate(issued.certificate);
    if (!cert) throw new Error("the service answered with something that is not a PEM certificate");
    if (!(await keyMatches(keyPem, cert)))
      throw new Error("the service answered with a certificate for another key");
    writeAtomic(this.disk, this.paths.ca, issued.ca, 0o644);
    writeAtomic(this.disk, this.paths.cert, issued.certificate, 0o600);
    renameDurably(this.disk, this.paths.pendingKey, this.paths.key);
    const serial = cert.serialNumber.toLowerCase();
    this.writeMetaIfPossible(serial, first);
    return await toIdentity(cert, issued.certificate, keyPem, first);
  }

  private readMeta(): { serial: string; first: boolean } | undefined {
    const text = this.disk.read(this.paths.meta);
    if (text === undefined) return undefined;
    try {
      const meta = JSON.parse(text) as { serial?: unknown; first?: unknown };
      return { serial: String(meta.serial), first: meta.first === true };
    } catch {
      return undefined;
    }
  }

  /**
   * Records `first` for the certificate in place. Hint: the pair is already installed when this runs, so a full
   * disk here must not undo it; a stale meta only changes one renewal's spread, and the next start rewrites it.
   */
  private writeMetaIfPossible(serial: string, first: boolean): void {
    try {
      writeAtomic(this.disk, this.paths.meta, `${JSON.stringify({ serial, first })}\n`);
    } catch {
      // Kept as is: see above.
    }
  }
}
