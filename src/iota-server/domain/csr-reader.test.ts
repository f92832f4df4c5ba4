/** The lean CSR path answers exactly as the @peculiar/x509 path did, for device CSRs and for odd ones from OpenSSL. */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crypto, x509 } from "../../core/x509.ts";
import { EC_P256, createCsrPem, generateDeviceKey, publicKeyHash } from "../../core/csr.ts";
import { decodePem, encodePem, toArrayBuffer } from "../../core/pem.ts";
import { invalidField, isIotaError } from "../../core/errors.ts";
import { checkCsr, signatureProblem } from "./csr-check.ts";
import { hasCsrFrame, hasExplicitCurve, readPlainCsr } from "./csr-reader.ts";

/** The CSR checks as they were written on @peculiar/x509 alone: the reference the lean path must match. */
async function referenceCheck(
  pem: string,
  device: string,
): Promise<{ spki: string; keyHash: string }> {
  const blocks = decodePem(pem);
  const block = blocks[0];
  if (
    blocks.length !== 1 ||
    !block ||
    (block.label !== "CERTIFICATE REQUEST" && block.label !== "NEW CERTIFICATE REQUEST")
  ) {
    throw invalidField("csr", "must be exactly one PEM block labelled CERTIFICATE REQUEST");
  }
  let csr: x509.Pkcs10CertificateRequest;
  try {
    csr = new x509.Pkcs10CertificateRequest(toArrayBuffer(block.der));
  } catch {
    throw invalidField("csr", "is not a valid PKCS#10 certificate request (DER does not parse)");
  }
  const algorithm = csr.publicKey.algorithm as EcKeyAlgorithm;
  const spki = new Uint8Array(csr.publicKey.rawData);
  if (hasExplicitCurve(spki))
    throw invalidField(
      "csr",
      "has an EC key with explicit curve parameters; IoTA device keys are ECDSA P-256 with the named curve (RFC 5480)",
    );
  if (algorithm.name !== "ECDSA" || algorithm.namedCurve !== "P-256") {
    const got = algorithm.namedCurve ? `${algorithm.name} ${algorithm.namedCurve}` : algorithm.name;
    throw invalidField("csr", `has a ${got} key; IoTA device keys are ECDSA P-256`);
  }
  // Hint: canonical means what WebCrypto exports after importing the key, byte for byte; a key that does not
  // import (a point off the curve) is left to the signature check, which names that.
  const canonical = await crypto.subtle
    .importKey("spki", spki, EC_P256, true, ["verify"])
    .then(async (key) => new Uint8Array(await crypto.subtle.exportKey("spki", key)))
    .catch(() => spki);
  if (Buffer.compare(canonical, spki) !== 0) {
    const what =
      spki[26] === 0x02 || spki[26] === 0x03
        ? "as a compressed point"
        : "in a non-canonical encoding";
    throw invalidField(
      "csr",
      `carries its public key ${what}; IoTA takes a P-256 key only as the uncompressed point with the named curve (RFC 5480), so that one key has one encoding`,
    );
  }
  const signedWith = signatureProblem(csr.signatureAlgorithm);
  if (signedWith) throw invalidField("csr", signedWith);
  const verified = await csr.verify().catch(() => false);
  if (!verified)
    throw invalidField(
      "csr",
      "signature does not verify with its own public key (no proof of possession)",
    );
  const cn = csr.subjectName.getField("CN");
  if (cn.length !== 1 || cn[0] !== device) {
    throw invalidField(
      "csr",
      `subject CN must be the device name ${JSON.stringify(device)}, got ${JSON.stringify(cn.join(","))}`,
    );
  }
  const basic = csr.extensions.find(
    (e): e is x509.BasicConstraintsExtension => e instanceof x509.BasicConstraintsExtension,
  );
  if (basic?.ca)
    throw invalidField(
      "csr",
      "asks for CA rights (basicConstraints cA=TRUE); device certificates cannot sign",
    );
  return {
    spki: Buffer.from(csr.publicKey.rawData).toString("hex"),
    keyHash: await publicKeyHash(csr.publicKey.rawData),
  };
}

/** What a check answered: the key, or the error's status and message. */
async function outcome(run: () => Promise<{ spki: string; keyHash: string }>): Promise<string> {
  try {
    const r = await run();
    return `ok ${r.spki} ${r.keyHash}`;
  } catch (error) {
    if (!isIotaError(error)) throw error;
    return `${error.kind} ${error.message} ${JSON.stringify(error.errors ?? [])}`;
  }
}

async function expectSameAnswer(pem: string, device: string): Promise<string> {
  const lean = await outcome(async () => {
    const r = await checkCsr(pem, device);
    return { spki: Buffer.from(r.publicKey).toString("hex"), keyHash: r.keyHash };
  });
  expect(lean).toBe(await outcome(() => referenceCheck(pem, device)));
  return lean;
}

let dir: string;
function openssl(args: string[]): string {
  const run = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
  if (run.error)
    throw new Error(
      `openssl is required for this test (apt-get install openssl): ${run.error.message}`,
    );
  if (run.status !== 0) throw new Error(`openssl ${args.join(" ")} failed: ${run.stderr}`);
  return run.stdout;
}
/** A CSR made by `openssl req` with a new key of `keyArgs` and extra arguments. */
function opensslCsr(name: string, keyArgs: string[], extra: string[]): string {
  openssl(["genpkey", ...keyArgs, "-out", `${name}.key`]);
  openssl(["req", "-new", "-key", `${name}.key`, "-out", `${name}.csr`, ...extra]);
  return readFileSync(join(dir, `${name}.csr`), "utf8");
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "iota-csr-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("checkCsr on the lean path", () => {
  test("device CSRs take the lean path and get the reference answer, right or wrong CN", async () => {
    for (let i = 0; i < 20; i++) {
      const device = `test-device-${i}`;
      const pem = await createCsrPem(await generateDeviceKey(), device);
      expect(readPlainCsr(new Uint8Array(decodePem(pem)[0]?.der ?? []))).toBeDefined();
      expect(await expectSameAnswer(pem, device)).toStartWith("ok ");
      expect(await expectSameAnswer(pem, `other-${i}`)).toContain(
        "subject CN must be the device name",
      );
    }
  });

  test("a CSR whose signature or signed bytes were altered is refused as before", async () => {
    const pem = await createCsrPem(await generateDeviceKey(), "dev-1");
    const der = new Uint8Array(decodePem(pem)[0]?.der ?? []);
    for (const at of [der.length - 5, der.length - 40, 20, 70]) {
      const bad = der.slice();
      bad[at] = (bad[at] ?? 0) ^ 0x01;
      const answer = await expectSameAnswer(encodePem(bad, "CERTIFICATE REQUEST"), "dev-1");
      expect(answer).toStartWith("invalid ");
    }
  });

  test("OpenSSL CSRs: P-256 takes the lean path; other keys, CA requests and extra names answer as before", async () => {
    const p256 = opensslCsr(
      "p256",
      ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
      ["-subj", "/CN=dev-2"],
    );
    expect(readPlainCsr(new Uint8Array(decodePem(p256)[0]?.der ?? []))).toBeDefined();
    expect(await expectSameAnswer(p256, "dev-2")).toStartWith("ok ");
    const two = opensslCsr(
      "two",
      ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
      ["-subj", "/O=Acme/CN=dev-2/CN=dev-3"],
    );
    expect(await expectSameAnswer(two, "dev-2")).toContain('got \\"dev-2,dev-3\\"');
    const utf8 = opensslCsr(
      "utf8",
      ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
      ["-utf8", "-subj", "/CN=gerät"],
    );
    expect(await expectSameAnswer(utf8, "gerät")).toStartWith("ok ");
    const ca = opensslCsr(
      "ca",
      ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
      ["-subj", "/CN=dev-2", "-addext", "basicConstraints=critical,CA:TRUE"],
    );
    expect(await expectSameAnswer(ca, "dev-2")).toContain("asks for CA rights");
    const p384 = opensslCsr(
      "p384",
      ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"],
      ["-subj", "/CN=dev-2"],
    );
    expect(await expectSameAnswer(p384, "dev-2")).toContain("IoTA device keys are ECDSA P-256");
    const rsa = opensslCsr(
      "rsa",
      ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
      ["-subj", "/CN=dev-2"],
    );
    expect(await expectSameAnswer(rsa, "dev-2")).toContain("IoTA device keys are ECDSA P-256");
    const sha384 = opensslCsr(
      "sha384",
      ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
      ["-sha384", "-subj", "/CN=dev-2"],
    );
    expect(readPlainCsr(new Uint8Array(decodePem(sha384)[0]?.der ?? []))).toBeUndefined();
    expect(await expectSameAnswer(sha384, "dev-2")).toContain(
      "is signed with ECDSA with SHA-384; IoTA takes device requests signed with ECDSA and SHA-256",
    );
    for (const hash of ["sha1", "sha512"]) {
      const other = opensslCsr(
        hash,
        ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
        [`-${hash}`, "-subj", "/CN=dev-2"],
      );
      const answer = await checkCsr(other, "dev-2").then(
        () => "issued",
        (error: Error) => error.message,
      );
      expect(answer).toContain(`is signed with ECDSA with SHA-${hash.slice(3)}`);
    }
    const secp224k1 = opensslCsr(
      "secp224k1",
      ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:secp224k1"],
      ["-subj", "/CN=dev-2"],
    );
    expect(await expectSameAnswer(secp224k1, "dev-2")).toContain(
      "IoTA device keys are ECDSA P-256",
    );
  }, 30_000);

  test("the P-256 key of a plain CSR, re-encoded by OpenSSL (compressed point, explicit curve), is refused on both paths", async () => {
    openssl(["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "same.key"]);
    const reencoded = (name: string, ecArgs: string[]): string => {
      openssl(["ec", "-in", "same.key", ...ecArgs, "-out", `${name}.key`]);
      openssl(["req", "-new", "-key", `${name}.key`, "-subj", "/CN=dev-2", "-out", `${name}.csr`]);
      return readFileSync(join(dir, `${name}.csr`), "utf8");
    };
    const plain = reencoded("same-plain", []);
    const der = (pem: string) => new Uint8Array(decodePem(pem)[0]?.der ?? []);
    expect(readPlainCsr(der(plain))).toBeDefined();
    expect(await expectSameAnswer(plain, "dev-2")).toStartWith("ok ");
    const compressed = reencoded("same-compressed", ["-conv_form", "compressed"]);
    expect(readPlainCsr(der(compressed))).toBeUndefined();
    expect(await expectSameAnswer(compressed, "dev-2")).toContain(
      "carries its public key as a compressed point",
    );
    for (const [name, ecArgs] of [
      ["same-explicit", ["-param_enc", "explicit"]],
      ["same-explicit-compressed", ["-param_enc", "explicit", "-conv_form", "compressed"]],
    ] as const) {
      const csr = reencoded(name, [...ecArgs]);
      expect(await expectSameAnswer(csr, "dev-2")).toContain(
        "has an EC key with explicit curve parameters",
      );
    }
  }, 30_000);

  test("garbage, truncated and mislabelled input answer as before", async () => {
    const pem = await createCsrPem(await generateDeviceKey(), "dev-1");
    const der = new Uint8Array(decodePem(pem)[0]?.der ?? []);
    for (const bad of [
      der.subarray(0, der.length - 1),
      new Uint8Array([0x30, 0x03, 0x02, 0x01, 0x00]),
    ]) {
      expect(await expectSameAnswer(encodePem(bad, "CERTIFICATE REQUEST"), "dev-1")).toStartWith(
        "invalid ",
      );
    }
    // Hint: the general parser tolerates bytes the signature does not cover: trailing ones, or an outer length
    // that ends before the signature does; both are refused before it sees them.
    const trailing = new Uint8Array([...der, 0]);
    const shortOuter = new Uint8Array([...der, 0, 0, 0, 0, 0, 0, 0, 0]);
    expect(shortOuter[1]).toBe(0x81);
    shortOuter[2] = (shortOuter[2] ?? 0) - 8;
    expect(
      await outcome(() => referenceCheck(encodePem(shortOuter, "CERTIFICATE REQUEST"), "dev-1")),
    ).toStartWith("ok ");
    for (const bad of [trailing, shortOuter]) {
      expect(readPlainCsr(bad)).toBeUndefined();
      expect(hasCsrFrame(bad)).toBe(false);
      const answer = await expectSameAnswer(encodePem(der, "CERTIFICATE REQUEST"), "dev-1");
      expect(answer).toStartWith("ok ");
      const refused = await outcome(async () => {
        const r = await checkCsr(encodePem(bad, "CERTIFICATE REQUEST"), "dev-1");
        return { spki: Buffer.from(r.publicKey).toString("hex"), keyHash: r.keyHash };
      });
      expect(refused).toStartWith("invalid ");
      expect(refused).toContain("DER does not parse");
    }
    expect(hasCsrFrame(der)).toBe(true);
    expect(
      await expectSameAnswer(pem.replaceAll("CERTIFICATE REQUEST", "CERTIFICATE"), "dev-1"),
    ).toContain("exactly one PEM block");
    expect(await expectSameAnswer("not a csr", "dev-1")).toContain("exactly one PEM block");
  });
});
