/** A tenant's certificate authority: its root, device certificate issuance, and the CRL. */

import { crypto, x509 } from "../../core/x509.ts";
import { EC_P256, ECDSA_SHA256, exportPrivateKeyPem, importPrivateKeyPem } from "../../core/csr.ts";
import { encodePem } from "../../core/pem.ts";
import {
  backdateSeconds,
  identityUri,
  newSerial,
  type DeviceIdentity,
} from "../../core/profile.ts";
import { TemplateIssuer, certificatePem } from "./template-issuer.ts";

/** Root CA lifetime: 20 years; devices rotate, the trust anchor in their images should not. */
const ROOT_VALIDITY_MS = 20 * 365 * 86400_000;
/** A CRL is valid for a day; the service signs a fresh one whenever it changes or half of that passed. */
export const CRL_VALIDITY_MS = 86400_000;

/** Which of the service's listeners a server certificate is for: its subject's organisation says so. */
export type ServerRole = "API" | "broker";

/** What {@link CertificateAuthority.issue} and {@link CertificateAuthority.issueServer} produced. */
export interface IssuedDeviceCertificate {
  pem: string;
  serial: string;
  notBefore: number;
  notAfter: number;
}

/**
 * A new end-entity certificate's serial and validity: from the start of this second, backdated (see
 * backdateSeconds) for devices whose clocks run behind, for `validitySeconds`.
 */
function newLeaf(validitySeconds: number, now: number) {
  const start = Math.floor(now / 1000) * 1000;
  return {
    serial: newSerial(),
    notBefore: start - backdateSeconds(validitySeconds) * 1000,
    notAfter: start + validitySeconds * 1000,
  };
}

/** A loaded CA: its certificate and private signing key. */
export class CertificateAuthority {
  private template: TemplateIssuer | undefined;

  private constructor(
    /** The CA certificate. */
    readonly cert: x509.X509Certificate,
    /** The CA certificate as PEM. */
    readonly certPem: string,
    private readonly signingKey: CryptoKey,
    private readonly authorityKeyId: x509.AuthorityKeyIdentifierExtension,
  ) {}

  /** Creates a new root CA for `tenant`; returns the CA and its private key as PKCS#8 PEM to be sealed. */
  static async create(
    tenant: string,
    now: number,
  ): Promise<{ ca: CertificateAuthority; keyPem: string }> {
    return await CertificateAuthority.createRoot(`IoTA ${tenant} Root CA`, now);
  }

  /** Creates a new self-signed root CA named `commonName` (O=IoTA); returns it and its PKCS#8 key PEM. */
  static async createRoot(
    commonName: string,
    now: number,
  ): Promise<{ ca: CertificateAuthority; keyPem: string }> {
    const keys = (await crypto.subtle.generateKey(EC_P256, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: newSerial(),
      name: `CN=${commonName}, O=IoTA`,
      notBefore: new Date(now - 3600_000),
      notAfter: new Date(now + ROOT_VALIDITY_MS),
      signingAlgorithm: ECDSA_SHA256,
      keys,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(
          x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
          true,
        ),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    const keyPem = await exportPrivateKeyPem(keys.privateKey);
    return { ca: await CertificateAuthority.load(cert.toString("pem"), keyPem), keyPem };
  }

  /** Loads a CA from its certificate and PKCS#8 private key. */
  static async load(certPem: string, keyPem: string): Promise<CertificateAuthority> {
    const cert = new x509.X509Certificate(certPem);
    const { privateKey } = await importPrivateKeyPem(keyPem);
    const aki = await x509.AuthorityKeyIdentifierExtension.create(cert, false);
    return new CertificateAuthority(cert, `${cert.toString("pem")}\n`, privateKey, aki);
  }

  /** Issues a device certificate for `publicKey` (or its SubjectPublicKeyInfo DER) with the IoTA device profile. */
  async issue(
    id: DeviceIdentity,
    publicKey: x509.PublicKey | Uint8Array,
    validitySeconds: number,
    now: number,
  ): Promise<IssuedDeviceCertificate> {
    const { serial, notBefore, notAfter } = newLeaf(validitySeconds, now);
    // Hint: the template issuer writes the same profile as @peculiar/x509 would, ~50x cheaper (template-issuer.test.ts).
    this.template ??= new TemplateIssuer(
      new Uint8Array(this.cert.rawData),
      new Uint8Array(this.authorityKeyId.rawData),
      this.signingKey,
    );
    const spki = publicKey instanceof Uint8Array ? publicKey : new Uint8Array(publicKey.rawData);
    const der = this.template.issue({
      serialHex: serial,
      notBefore,
      notAfter,
      commonName: id.device,
      spki,
      uri: identityUri(id),
    });
    return { pem: certificatePem(der), serial, notBefore, notAfter };
  }

  /**
   * Issues a TLS server certificate (EKU serverAuth) for one of the service's listeners, `role` naming which
   * (the API, the MQTT broker) in its subject, with `dnsNames` and `ipAddresses` in its SAN. Kept apart from
   * {@link issue}: a listener is not a device and is not in the device table.
   */
  async issueServer(
    names: { dnsNames: string[]; ipAddresses: string[] },
    role: ServerRole,
    publicKey: CryptoKey,
    validitySeconds: number,
    now: number,
  ): Promise<IssuedDeviceCertificate> {
    const cn = names.dnsNames[0] ?? names.ipAddresses[0] ?? role;
    return await this.issueLeaf(
      `CN=${cn}, O=IoTA ${role}`,
      x509.ExtendedKeyUsage.serverAuth,
      [
        ...names.dnsNames.map((value) => ({ type: "dns" as const, value })),
        ...names.ipAddresses.map((value) => ({ type: "ip" as const, value })),
      ],
      publicKey,
      validitySeconds,
      now,
    );
  }

  /**
   * Issues the service's own broker monitor certificate (EKU clientAuth): subject CN `commonName`, which no device
   * name can equal, and a SAN URI `iota-monitor://<tenant>`, which is no device identity. It is kept in no table:
   * it cannot renew or provision as a device, and the embedded broker refuses it like any non-device certificate.
   */
  async issueMonitor(
    commonName: string,
    tenant: string,
    publicKey: CryptoKey,
    validitySeconds: number,
    now: number,
  ): Promise<IssuedDeviceCertificate> {
    return await this.issueLeaf(
      `CN=${commonName}, O=IoTA monitor`,
      x509.ExtendedKeyUsage.clientAuth,
      [{ type: "url", value: `iota-monitor://${tenant}` }],
      publicKey,
      validitySeconds,
      now,
    );
  }

  /** A non-device end-entity certificate: `subject`, one extended key usage, `san`; backdated like a device's. */
  private async issueLeaf(
    subject: string,
    usage: x509.ExtendedKeyUsageType,
    san: x509.JsonGeneralName[],
    publicKey: CryptoKey,
    validitySeconds: number,
    now: number,
  ): Promise<IssuedDeviceCertificate> {
    const { serial, notBefore, notAfter } = newLeaf(validitySeconds, now);
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject,
      issuer: this.cert.subject,
      notBefore: new Date(notBefore),
      notAfter: new Date(notAfter),
      signingAlgorithm: ECDSA_SHA256,
      publicKey,
      signingKey: this.signingKey,
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([usage], false),
        new x509.SubjectAlternativeNameExtension(san, false),
        this.authorityKeyId,
        await x509.SubjectKeyIdentifierExtension.create(publicKey),
      ],
    });
    return { pem: `${cert.toString("pem")}\n`, serial, notBefore, notAfter };
  }

  /** A CRL listing `revoked`, numbered `crlNumber`, PEM with the `X509 CRL` header OpenSSL and Mosquitto read. */
  async crl(
    revoked: { serial: string; revokedAt: number }[],
    crlNumber: number,
    now: number,
  ): Promise<string> {
    const crl = await x509.X509CrlGenerator.create({
      issuer: this.cert.subject,
      thisUpdate: new Date(now - 60_000),
      nextUpdate: new Date(now + CRL_VALIDITY_MS),
      signingAlgorithm: ECDSA_SHA256,
      signingKey: this.signingKey,
      entries: revoked.map((r) => ({
        serialNumber: r.serial,
        revocationDate: new Date(r.revokedAt),
      })),
      extensions: [
        this.authorityKeyId,
        new x509.Extension("2.5.29.20", false, derInteger(crlNumber)),
      ],
    });
    // Hint: @peculiar/x509 writes "BEGIN CRL", which OpenSSL and Mosquitto reject.
    return encodePem(crl.rawData, "X509 CRL");
  }
}

/** DER encoding of a non-negative integer. */
function derInteger(value: number): ArrayBuffer {
  let hex = value.toString(16);
  if (hex.length % 2) hex = `0${hex}`;
  if (Number.parseInt(hex.slice(0, 2), 16) >= 0x80) hex = `00${hex}`;
  const body = Buffer.from(hex, "hex");
  return new Uint8Array([0x02, body.length, ...body]).buffer;
}
