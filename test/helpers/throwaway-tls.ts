/** Throwaway TLS material made with openssl (an independent tool): two CAs and a server certificate from each, for 127.0.0.1 and localhost. */

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fakeClockEnv } from "./fake-clock.ts";

/** One CA and a server certificate it issued. */
export interface IssuedPair {
  /** The CA certificate (PEM) and its file. */
  ca: string;
  caFile: string;
  /** The CA's SHA-256 fingerprint as openssl prints it (`sha256 Fingerprint=AB:CD:...`). */
  opensslFingerprint: string;
  /** The server certificate and key (PEM). */
  cert: string;
  key: string;
}

/** Two unrelated CAs: `pinned` (the one a client pins) and `other` (anyone else, e.g. a public CA). */
export interface ThrowawayTls {
  dir: string;
  pinned: IssuedPair;
  other: IssuedPair;
  remove(): void;
}

/** Runs openssl in `cwd`; with its clock at `at` when given (certificates dated then). */
function openssl(args: string[], cwd: string, at?: string): string {
  let result: ReturnType<typeof Bun.spawnSync>;
  try {
    result = Bun.spawnSync(["openssl", ...args], {
      cwd,
      stdout: "pipe",
      stderr: "pipe",
      env: at === undefined ? process.env : { ...process.env, ...fakeClockEnv(`@${at}`) },
    });
  } catch (error) {
    throw new Error(
      `openssl is required for this test (apt-get install openssl): ${(error as Error).message}`,
    );
  }
  if (result.exitCode !== 0)
    throw new Error(`openssl ${args.join(" ")} failed: ${result.stderr?.toString()}`);
  return result.stdout?.toString() ?? "";
}

/**
 * Makes the CA `name` and a server certificate from it for `altNames` (default localhost and 127.0.0.1) in `dir`;
 * with `at` (a date such as "2020-01-01 00:00:00"), both are issued then, the server certificate for a day.
 */
export function issuePair(
  dir: string,
  name: string,
  at?: string,
  altNames = "DNS:localhost,IP:127.0.0.1",
): IssuedPair {
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  openssl(
    [
      "req",
      "-x509",
      ...ec,
      "-keyout",
      `${name}-ca.key`,
      "-out",
      `${name}-ca.pem`,
      "-days",
      "2",
      "-subj",
      `/CN=${name} test CA`,
      "-addext",
      "basicConstraints=critical,CA:TRUE",
      "-addext",
      "keyUsage=critical,keyCertSign,cRLSign",
    ],
    dir,
    at,
  );
  openssl(
    ["req", ...ec, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name} server`],
    dir,
    at,
  );
  writeFileSync(
    join(dir, `${name}.ext`),
    `subjectAltName=${altNames}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`,
  );
  openssl(
    [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      `${name}-ca.pem`,
      "-CAkey",
      `${name}-ca.key`,
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      "-days",
      "1",
      "-extfile",
      `${name}.ext`,
    ],
    dir,
    at,
  );
  const read = (file: string) => readFileSync(join(dir, file), "utf8");
  return {
    ca: read(`${name}-ca.pem`),
    caFile: join(dir, `${name}-ca.pem`),
    opensslFingerprint: openssl(
      ["x509", "-in", `${name}-ca.pem`, "-noout", "-fingerprint", "-sha256"],
      dir,
    ).trim(),
    cert: read(`${name}.pem`),
    key: read(`${name}.key`),
  };
}

/** Makes both CAs and their server certificates in a temp folder. */
export function throwawayTls(): ThrowawayTls {
  const dir = mkdtempSync(join(tmpdir(), "iota-tls-"));
  return {
    dir,
    pinned: issuePair(dir, "pinned"),
    other: issuePair(dir, "other"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** A request a test server saw. */
export interface Seen {
  method: string;
  path: string;
  authorization: string | null;
}

/** A Bun.serve listener on 127.0.0.1 (TLS with `tls`) that records every request and answers with `answer`. */
export function recordingServer(
  answer: (request: Request) => Response | Promise<Response>,
  tls?: { cert: string; key: string },
) {
  const seen: Seen[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    ...(tls ? { tls } : {}),
    fetch: (request) => {
      seen.push({
        method: request.method,
        path: new URL(request.url).pathname,
        authorization: request.headers.get("authorization"),
      });
      return answer(request);
    },
  });
  return {
    url: `${tls ? "https" : "http"}://127.0.0.1:${server.port}`,
    seen,
    stop: () => server.stop(true),
  };
}
