/**
 * The real iota-server process driven only by tools nobody here wrote: openssl makes the key and CSR,
 * curl talks to the API, openssl verifies the certificate, reads the CRL and rejects the revoked certificate.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startServerProcess, type ServerProcess } from "./helpers/server-process.ts";

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a tool in the work folder; throws naming the tool when it is not installed. */
function run(cmd: string[], cwd: string): Ran {
  const [tool] = cmd;
  if (!tool || !Bun.which(tool))
    throw new Error(
      `${tool} is not installed; this test needs openssl and curl (apt-get install openssl curl)`,
    );
  const p = Bun.spawnSync(cmd, { cwd, stdout: "pipe", stderr: "pipe" });
  return { code: p.exitCode ?? -1, stdout: p.stdout.toString(), stderr: p.stderr.toString() };
}

/** Runs a tool and fails with its output unless it exits 0. */
function ok(cmd: string[], cwd: string): string {
  const r = run(cmd, cwd);
  if (r.code !== 0) throw new Error(`${cmd.join(" ")} exited ${r.code}:\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

let work = "";
let data = "";
let url = "";
let token = "";
let server: ServerProcess | undefined;

/** curl trusting only the service's own server CA, failing on an HTTP error. */
const curl = (): string[] => [
  "curl",
  "-sS",
  "--fail-with-body",
  "--cacert",
  join(data, "server-ca.pem"),
];

/** curl with the admin token; returns the body, failing on an HTTP error. */
function admin(method: string, path: string, body?: unknown): string {
  const cmd = [...curl(), "-X", method, "-H", `Authorization: Bearer ${token}`, `${url}${path}`];
  if (body !== undefined)
    cmd.push("-H", "Content-Type: application/json", "-d", JSON.stringify(body));
  return ok(cmd, work);
}

beforeAll(async () => {
  for (const tool of ["openssl", "curl"])
    if (!Bun.which(tool))
      throw new Error(`${tool} is not installed; this test needs it (apt-get install ${tool})`);
  work = mkdtempSync(join(tmpdir(), "iota-openssl-"));
  data = join(work, "data");
  server = await startServerProcess({ tls: true, data });
  url = server.url;
  token = server.token();
});

afterAll(async () => {
  await server?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("HTTPS by default, checked with curl and openssl", () => {
  const port = () => new URL(url).port;

  test("curl trusts the server with DATA/server-ca.pem at 127.0.0.1 and at localhost; nothing else vouches for it", () => {
    expect(url).toStartWith("https://127.0.0.1:");
    for (const host of ["127.0.0.1", "localhost"])
      expect(ok([...curl(), `https://${host}:${port()}/v1/ca`], work)).toContain(
        "BEGIN CERTIFICATE",
      );
    const untrusted = run(["curl", "-sS", `https://127.0.0.1:${port()}/v1/ca`], work);
    expect(untrusted.code).toBe(60);
  });

  test("the fingerprint printed at start is openssl's SHA-256 fingerprint of DATA/server-ca.pem; it is not the tenant CA", () => {
    const printed = server?.fingerprint ?? "";
    const openssl = ok(
      ["openssl", "x509", "-in", join(data, "server-ca.pem"), "-noout", "-fingerprint", "-sha256"],
      work,
    );
    expect(openssl.trim()).toBe(`sha256 Fingerprint=${printed}`);
    const tenantCa = ok([...curl(), `${url}/v1/ca`], work);
    expect(tenantCa).not.toBe(readFileSync(join(data, "server-ca.pem"), "utf8"));
    expect(ok([...curl(), `${url}/v1/server-ca`], work)).toBe(
      readFileSync(join(data, "server-ca.pem"), "utf8"),
    );
  });

  test("plain HTTP on the API port gets no API answer", () => {
    const plain = run(
      [
        "curl",
        "-sS",
        "-m",
        "5",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        `http://127.0.0.1:${port()}/v1/ca`,
      ],
      work,
    );
    expect(plain.code).not.toBe(0);
    expect(plain.stdout).toBe("000");
  });

  test("TLS 1.1 is refused; TLS 1.3 verifies against the server CA; TLS 1.2 offers only ECDHE with AEAD ciphers", () => {
    const sClient = (...args: string[]) =>
      Bun.spawnSync(
        [
          "openssl",
          "s_client",
          "-connect",
          `127.0.0.1:${port()}`,
          "-servername",
          "localhost",
          ...args,
        ],
        {
          stdin: new TextEncoder().encode(""),
          stdout: "pipe",
          stderr: "pipe",
        },
      );
    const old = sClient("-tls1_1");
    expect(old.exitCode).not.toBe(0);
    const modern = sClient(
      "-tls1_3",
      "-CAfile",
      join(data, "server-ca.pem"),
      "-verify_return_error",
    );
    expect(modern.exitCode).toBe(0);
    expect(modern.stdout.toString()).toContain("Verify return code: 0 (ok)");
    expect(modern.stdout.toString()).toMatch(/TLSv1\.3/);
    for (const cipher of ["ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA", "AES128-GCM-SHA256"])
      expect(sClient("-tls1_2", "-cipher", cipher).exitCode).not.toBe(0);
    expect(sClient("-tls1_2", "-cipher", "ECDHE-ECDSA-AES128-GCM-SHA256").exitCode).toBe(0);
  });

  test("answers that carry secrets are not cacheable; a 401 names its Bearer scheme", () => {
    const created = run(
      [
        ...curl(),
        "-i",
        "-X",
        "POST",
        "-H",
        `Authorization: Bearer ${token}`,
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"name":"cache-check"}',
        `${url}/v1/groups`,
      ],
      work,
    );
    expect(created.stdout.toLowerCase()).toContain("cache-control: no-store");
    const anonymous = run(
      ["curl", "-sS", "-i", "--cacert", join(data, "server-ca.pem"), `${url}/v1/groups`],
      work,
    );
    expect(anonymous.stdout.toLowerCase()).toContain('www-authenticate: bearer realm="iota"');
  });
});

describe("iota-server with openssl and curl", () => {
  test("the data folder is 0700 and its admin token and master key are 0600", () => {
    expect(statSync(data).mode & 0o777).toBe(0o700);
    expect(statSync(join(data, "admin-token")).mode & 0o777).toBe(0o600);
    expect(statSync(join(data, "master.key")).mode & 0o777).toBe(0o600);
    expect(token).toMatch(/^iota_[A-Za-z0-9_-]{43}$/);
  });

  test("an openssl CSR provisions over curl; openssl verifies it, then rejects it after a revoke", () => {
    const group = JSON.parse(admin("POST", "/v1/groups", { name: "room2-lights" })) as {
      provisioningSecret: string;
    };
    admin("POST", "/v1/groups/room2-lights/devices", { name: "test-device-123" });

    ok(
      ["openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "device.key"],
      work,
    );
    ok(
      [
        "openssl",
        "req",
        "-new",
        "-key",
        "device.key",
        "-subj",
        "/CN=test-device-123",
        "-out",
        "device.csr",
      ],
      work,
    );
    const csr = readFileSync(join(work, "device.csr"), "utf8");
    writeFileSync(
      join(work, "provision.json"),
      JSON.stringify({
        group: "room2-lights",
        device: "test-device-123",
        csr,
        secret: group.provisioningSecret,
      }),
    );
    const issued = JSON.parse(
      ok(
        [
          ...curl(),
          "-H",
          "Content-Type: application/json",
          "--data-binary",
          "@provision.json",
          `${url}/v1/provision`,
        ],
        work,
      ),
    ) as { certificate: string; serial: string };
    writeFileSync(join(work, "device.crt"), issued.certificate);
    ok([...curl(), "-o", "ca.pem", `${url}/v1/ca`], work);

    expect(ok(["openssl", "verify", "-CAfile", "ca.pem", "device.crt"], work)).toContain(
      "device.crt: OK",
    );
    const text = ok(["openssl", "x509", "-in", "device.crt", "-noout", "-text"], work);
    expect(text).toContain("TLS Web Client Authentication");
    expect(text).toContain("URI:iota://default/room2-lights/test-device-123");
    expect(text).toContain("CA:FALSE");
    expect(text).toContain("Subject: CN = test-device-123");
    expect(text).toContain("prime256v1");
    // The certificate holds the key openssl made.
    const certKey = ok(["openssl", "x509", "-in", "device.crt", "-noout", "-pubkey"], work);
    const ownKey = ok(["openssl", "ec", "-in", "device.key", "-pubout"], work);
    expect(certKey.trim()).toBe(ownKey.trim());

    // Before the revoke, the CRL check passes.
    ok([...curl(), "-o", "crl-before.pem", `${url}/v1/crl`], work);
    expect(
      ok(
        [
          "openssl",
          "verify",
          "-crl_check",
          "-CRLfile",
          "crl-before.pem",
          "-CAfile",
          "ca.pem",
          "device.crt",
        ],
        work,
      ),
    ).toContain("OK");

    admin("POST", "/v1/groups/room2-lights/devices/test-device-123/revoke");
    ok([...curl(), "-o", "crl.pem", `${url}/v1/crl`], work);
    expect(readFileSync(join(work, "crl.pem"), "utf8")).toStartWith("-----BEGIN X509 CRL-----");
    const crlText = ok(["openssl", "crl", "-in", "crl.pem", "-noout", "-text"], work);
    expect(crlText).toContain("Certificate Revocation List");
    expect(crlText).toContain(`Serial Number: ${issued.serial.toUpperCase()}`);
    const crlVerify = run(
      ["openssl", "crl", "-in", "crl.pem", "-noout", "-verify", "-CAfile", "ca.pem"],
      work,
    );
    expect(crlVerify.code).toBe(0);
    expect(crlVerify.stdout + crlVerify.stderr).toContain("verify OK");

    const rejected = run(
      ["openssl", "verify", "-crl_check", "-CRLfile", "crl.pem", "-CAfile", "ca.pem", "device.crt"],
      work,
    );
    expect(rejected.code).not.toBe(0);
    expect(rejected.stdout + rejected.stderr).toContain("certificate revoked");
  });

  test("curl sees problem+json errors with the right statuses", () => {
    const noToken = run(
      [
        "curl",
        "-s",
        "--cacert",
        join(data, "server-ca.pem"),
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        `${url}/v1/groups`,
      ],
      work,
    );
    expect(noToken.stdout).toBe("401");
    const bad = run(
      [
        "curl",
        "-s",
        "--cacert",
        join(data, "server-ca.pem"),
        "-i",
        "-H",
        `Authorization: Bearer ${token}`,
        "-H",
        "Content-Type: application/json",
        "-d",
        '{"name":"Bad_Name"}',
        `${url}/v1/groups`,
      ],
      work,
    );
    expect(bad.stdout).toMatch(/^HTTP\/1\.1 400/);
    expect(bad.stdout.toLowerCase()).toContain("content-type: application/problem+json");
    expect(bad.stdout).toContain('"field":"name"');
  });
});
