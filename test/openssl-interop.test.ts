/**
 * The real iota-server process driven only by tools nobody here wrote: openssl makes the key and CSR,
 * curl talks to the API, openssl verifies the certificate, reads the CRL and rejects the revoked certificate.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const BUN = join(ROOT, "node_modules/.bin/bun");

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
let server: ReturnType<typeof Bun.spawn> | undefined;

/** Starts `iota-server --listen 127.0.0.1:0` and reads the URL it prints. */
async function startServer(): Promise<string> {
  server = Bun.spawn(
    [BUN, join(ROOT, "src/iota-server/main.ts"), "--data", data, "--listen", "127.0.0.1:0"],
    { cwd: work, stdout: "pipe", stderr: "pipe" },
  );
  const reader = (server.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  for (;;) {
    const match = /listening on (http:\/\/[\d.]+:\d+)/.exec(text);
    if (match?.[1]) {
      reader.releaseLock();
      return match[1];
    }
    const { value, done } = await reader.read();
    if (done)
      throw new Error(
        `iota-server exited before listening:\n${text}\n${await new Response(server.stderr as ReadableStream).text()}`,
      );
    text += new TextDecoder().decode(value);
  }
}

/** curl with the admin token; returns the body, failing on an HTTP error. */
function admin(method: string, path: string, body?: unknown): string {
  const cmd = [
    "curl",
    "-sS",
    "--fail-with-body",
    "-X",
    method,
    "-H",
    `Authorization: Bearer ${token}`,
    `${url}${path}`,
  ];
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
  url = await startServer();
  token = readFileSync(join(data, "admin-token"), "utf8").trim();
});

afterAll(async () => {
  if (server) {
    server.kill("SIGTERM");
    await server.exited;
  }
  if (work) rmSync(work, { recursive: true, force: true });
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
          "curl",
          "-sS",
          "--fail-with-body",
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
    ok(["curl", "-sS", "--fail-with-body", "-o", "ca.pem", `${url}/v1/ca`], work);

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
    ok(["curl", "-sS", "--fail-with-body", "-o", "crl-before.pem", `${url}/v1/crl`], work);
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
    ok(["curl", "-sS", "--fail-with-body", "-o", "crl.pem", `${url}/v1/crl`], work);
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
      ["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", `${url}/v1/groups`],
      work,
    );
    expect(noToken.stdout).toBe("401");
    const bad = run(
      [
        "curl",
        "-s",
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
