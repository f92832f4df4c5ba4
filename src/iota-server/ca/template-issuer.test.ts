/** The template issuer writes the very certificate @peculiar/x509 would, and OpenSSL accepts what it writes. */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomInt } from "node:crypto";
import { x509 } from "../../core/x509.ts";
import { ECDSA_SHA256, generateDeviceKey, importPrivateKeyPem } from "../../core/csr.ts";
import {
  backdateSeconds,
  identityUri,
  newSerial,
  type DeviceIdentity,
} from "../../core/profile.ts";
import { CertificateAuthority } from "./authority.ts";
import { TemplateIssuer, certificatePem, type DeviceCertificateFields } from "./template-issuer.ts";
import { TAG, expectTlv } from "../../core/der.ts";

const NAME_CHARS = "abcdefghijklmnopqrstuvwxyz0123456789";
/** A random valid IoTA name of 1-63 characters. */
function randomName(): string {
  const words = Array.from({ length: randomInt(1, 4) }, () =>
    Array.from({ length: randomInt(1, 15) }, () => NAME_CHARS[randomInt(NAME_CHARS.length)]).join(
      "",
    ),
  );
  return words.join("-").slice(0, 63).replace(/-$/, "x");
}

/** The device profile exactly as CertificateAuthority.issue wrote it with the @peculiar/x509 generator. */
async function referenceCertificate(
  ca: CertificateAuthority,
  signingKey: CryptoKey,
  f: DeviceCertificateFields,
): Promise<x509.X509Certificate> {
  const publicKey = new x509.PublicKey(f.spki.slice().buffer);
  return await x509.X509CertificateGenerator.create({
    serialNumber: f.serialHex,
    subject: `CN=${f.commonName}`,
    issuer: ca.cert.subject,
    notBefore: new Date(f.notBefore),
    notAfter: new Date(f.notAfter),
    signingAlgorithm: ECDSA_SHA256,
    publicKey,
    signingKey,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth], false),
      new x509.SubjectAlternativeNameExtension([{ type: "url", value: f.uri }], false),
      await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
    ],
  });
}

/** The TBSCertificate bytes of a certificate. */
function tbsOf(der: Uint8Array): Uint8Array {
  const tbs = expectTlv(der, expectTlv(der, 0, TAG.SEQUENCE).body, TAG.SEQUENCE);
  return der.subarray(tbs.start, tbs.end);
}

function openssl(args: string[]): string {
  const run = spawnSync("openssl", args, { encoding: "utf8" });
  if (run.error)
    throw new Error(
      `openssl is required for this test (apt-get install openssl): ${run.error.message}`,
    );
  if (run.status !== 0)
    throw new Error(`openssl ${args.join(" ")} failed: ${run.stderr}${run.stdout}`);
  return run.stdout;
}

let dir: string;
let ca: CertificateAuthority;
let signingKey: CryptoKey;
let issuer: TemplateIssuer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "iota-template-"));
  const created = await CertificateAuthority.create("default", Date.now());
  ca = created.ca;
  signingKey = (await importPrivateKeyPem(created.keyPem)).privateKey;
  const aki = await x509.AuthorityKeyIdentifierExtension.create(ca.cert, false);
  issuer = new TemplateIssuer(
    new Uint8Array(ca.cert.rawData),
    new Uint8Array(aki.rawData),
    signingKey,
  );
  writeFileSync(join(dir, "ca.pem"), ca.certPem);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Random fields: identity, lifetime from a minute to 398 days, issued now or (for GeneralizedTime) around 2050. */
async function randomFields(when: "now" | "2050"): Promise<DeviceCertificateFields> {
  const id: DeviceIdentity = { tenant: randomName(), group: randomName(), device: randomName() };
  const validity = randomInt(60, 398 * 86400 + 1);
  const base =
    when === "now"
      ? Date.now()
      : Date.UTC(2049, 11, 31, 23, 59, 59) - randomInt(0, 400 * 86400) * 1000;
  const start = Math.floor(base / 1000) * 1000;
  const keys = await generateDeviceKey();
  const spki = new Uint8Array(await crypto.subtle.exportKey("spki", keys.publicKey));
  const notBefore = start - backdateSeconds(validity) * 1000;
  return {
    serialHex: newSerial(),
    notBefore,
    notAfter: start + validity * 1000,
    commonName: id.device,
    spki,
    uri: identityUri(id),
  };
}

describe("TemplateIssuer", () => {
  for (const when of ["now", "2050"] as const) {
    test(`writes the same TBSCertificate as @peculiar/x509 for random identities and lifetimes (${when})`, async () => {
      const paths: string[] = [];
      for (let i = 0; i < 25; i++) {
        const f = await randomFields(when);
        const fast = await issuer.issue(f);
        const reference = await referenceCertificate(ca, signingKey, f);
        expect(Buffer.from(tbsOf(fast)).toString("hex")).toBe(
          Buffer.from(tbsOf(new Uint8Array(reference.rawData))).toString("hex"),
        );
        const parsed = new x509.X509Certificate(certificatePem(fast));
        expect(await parsed.verify({ publicKey: ca.cert.publicKey, signatureOnly: true })).toBe(
          true,
        );
        expect(parsed.serialNumber).toBe(f.serialHex);
        expect(parsed.notBefore.getTime()).toBe(f.notBefore);
        expect(parsed.notAfter.getTime()).toBe(f.notAfter);
        expect(parsed.subject).toBe(`CN=${f.commonName}`);
        expect(parsed.issuer).toBe(ca.cert.subject);
        expect(certificatePem(fast)).toBe(
          `${new x509.X509Certificate(fast.slice().buffer).toString("pem")}\n`,
        );
        const path = join(dir, `${when}-${i}.pem`);
        writeFileSync(path, certificatePem(fast));
        paths.push(path);
        const text = openssl(["x509", "-in", path, "-noout", "-text"]);
        expect(text).toContain(`URI:${f.uri}`);
        expect(text).toContain("CA:FALSE");
        expect(text).toContain("TLS Web Client Authentication");
        expect(text).toContain(`Subject: CN = ${f.commonName}`);
      }
      // Hint: certificates around 2050 are not yet valid, so only their chain and signature are checked.
      const timeArgs = when === "now" ? [] : ["-no_check_time"];
      const verified = openssl(["verify", ...timeArgs, "-CAfile", join(dir, "ca.pem"), ...paths]);
      expect(verified.split("\n").filter((l) => l.endsWith(": OK"))).toHaveLength(paths.length);
    }, 60_000);
  }

  test("writes GeneralizedTime from 2050 and UTCTime before", async () => {
    const f = await randomFields("now");
    f.notBefore = Date.UTC(2049, 11, 31, 23, 59, 59);
    f.notAfter = Date.UTC(2050, 0, 1, 0, 0, 0);
    const path = join(dir, "boundary.pem");
    writeFileSync(path, certificatePem(await issuer.issue(f)));
    const dump = openssl(["asn1parse", "-in", path]);
    expect(dump).toContain("UTCTIME           :491231235959Z");
    expect(dump).toContain("GENERALIZEDTIME   :20500101000000Z");
  });

  test("a CN outside PrintableString is written as UTF8String, as @peculiar/x509 does", async () => {
    const f = { ...(await randomFields("now")), commonName: "gerät_1" };
    const reference = await referenceCertificate(ca, signingKey, f);
    expect(Buffer.from(tbsOf(await issuer.issue(f))).toString("hex")).toBe(
      Buffer.from(tbsOf(new Uint8Array(reference.rawData))).toString("hex"),
    );
  });
});

describe("CertificateAuthority.issue on the template path", () => {
  test("issues certificates OpenSSL verifies, from a PublicKey or from SPKI bytes", async () => {
    const keys = await generateDeviceKey();
    const publicKey = await x509.PublicKey.create(keys.publicKey);
    const id = { tenant: "default", group: "room2-lights", device: "test-device-123" };
    const now = Date.now();
    const a = await ca.issue(id, publicKey, 30 * 86400, now);
    const b = await ca.issue(id, new Uint8Array(publicKey.rawData), 60, now);
    expect(a.notAfter - a.notBefore).toBe((30 * 86400 + 60) * 1000);
    expect(b.notAfter - b.notBefore).toBe(66_000);
    writeFileSync(join(dir, "a.pem"), a.pem);
    writeFileSync(join(dir, "b.pem"), b.pem);
    expect(
      openssl(["verify", "-CAfile", join(dir, "ca.pem"), join(dir, "a.pem"), join(dir, "b.pem")]),
    ).toContain("b.pem: OK");
    const cert = new x509.X509Certificate(a.pem);
    expect(cert.serialNumber).toBe(a.serial);
    expect(cert.getExtension(x509.SubjectAlternativeNameExtension)?.names.items[0]?.value).toBe(
      "iota://default/room2-lights/test-device-123",
    );
    expect(await cert.publicKey.getThumbprint()).toEqual(await publicKey.getThumbprint());
  });
});
