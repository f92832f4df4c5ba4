/**
 * The API's TLS as an operator runs it: the service renews its own certificate without a restart, serves
 * the operator's certificate and reloads it on SIGHUP, refuses unusable TLS files at start, and warns
 * about plain HTTP beyond loopback.
 */

import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "node:tls";
import type { X509Certificate } from "node:crypto";
import { DEFAULT_ISSUE_RATE } from "../src/iota-server/config.ts";
import { memoryLogger } from "../src/iota-server/log.ts";
import { startServer } from "../src/iota-server/server.ts";
import { BUN, ROOT, startServerProcess } from "./helpers/server-process.ts";
import { issuePair } from "./helpers/throwaway-tls.ts";

const tmp = mkdtempSync(join(tmpdir(), "iota-tls-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** The certificate a TLS server presents at 127.0.0.1:port, verified against `ca` when given. */
async function peerCertificate(port: number, ca?: string): Promise<X509Certificate> {
  return await new Promise((done, fail) => {
    const socket = connect({
      host: "127.0.0.1",
      port,
      servername: "localhost",
      ...(ca ? { ca } : { rejectUnauthorized: false }),
    });
    socket.once("secureConnect", () => {
      const cert = socket.getPeerX509Certificate();
      socket.destroy();
      if (cert) done(cert);
      else fail(new Error("no peer certificate"));
    });
    socket.once("error", fail);
  });
}

/**
 * `peerCertificate` while the listener may be swapping: a connection the kernel queued on the old listener
 * in the instant of the swap, or one in its TLS handshake there, is reset, and clients send it again
 * (docs/server.md), so this does too. `resets` counts them.
 */
async function peerCertificateAcrossSwap(
  port: number,
  resets: { count: number },
  ca?: string,
): Promise<X509Certificate> {
  for (;;) {
    try {
      return await peerCertificate(port, ca);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ECONNRESET" || resets.count >= 3) throw error;
      resets.count++;
    }
  }
}

/** An operator PKI made with openssl (a root and a server certificate), as the files an operator hands over. */
function files(dir: string, name: string): { chain: string; key: string; root: string } {
  const pair = issuePair(dir, name);
  const chain = join(dir, `${name}-chain.pem`);
  const key = join(dir, `${name}-server.key`);
  writeFileSync(chain, pair.cert);
  writeFileSync(key, pair.key);
  return { chain, key, root: pair.caFile };
}

test("the service renews its own server certificate before it expires, without a restart", async () => {
  const log = memoryLogger();
  const server = await startServer(
    {
      data: join(tmp, "renewing"),
      listen: { host: "127.0.0.1", port: 0 },
      db: "sqlite::memory:",
      tls: { kind: "self", hostnames: [] },
      issueRate: DEFAULT_ISSUE_RATE,
    },
    log,
    // Hint: renewed at two thirds, 6 s in; the 3 s left cover a loaded machine's delays before it expires.
    { serverCertValiditySeconds: 9 },
  );
  try {
    const port = Number(new URL(server.url).port);
    const first = await peerCertificate(port, server.serverCaPem);
    // Hint: the API's certificate says it is the API's; the embedded broker's says "IoTA broker".
    expect(first.subject).toContain("O=IoTA API");
    let current = first;
    // Hint: this poll may meet the one swap's instant once.
    const resets = { count: 0 };
    const deadline = Date.now() + 20_000;
    while (current.serialNumber === first.serialNumber && Date.now() < deadline) {
      await Bun.sleep(200);
      current = await peerCertificateAcrossSwap(port, resets, server.serverCaPem);
    }
    expect(current.serialNumber).not.toBe(first.serialNumber);
    expect(resets.count).toBeLessThanOrEqual(1);
    // Renewed well before the old one ran out, and from the same server CA (the connection above verified it).
    expect(Date.parse(current.validFrom)).toBeLessThan(Date.parse(first.validTo));
    expect(log.lines.some((l) => l.includes("API: TLS certificate renewed"))).toBe(true);
    const res = await fetch(`${server.url}/v1/ca`, { tls: { ca: server.serverCaPem } });
    expect(res.status).toBe(200);
  } finally {
    await server.stop();
  }
}, 30_000);

test("--tls-cert/--tls-key serve the operator's certificate; SIGHUP reloads it, and keeps it when the new files are bad", async () => {
  const dir = join(tmp, "operator");
  spawnSync("mkdir", ["-p", dir]);
  const one = files(dir, "one");
  const server = await startServerProcess({
    tls: true,
    args: ["--tls-cert", one.chain, "--tls-key", one.key],
  });
  try {
    // The start lines point clients at the operator's CA, not at the service's own server CA.
    expect(server.output()).toContain(
      `TLS:         ${one.chain} (SIGHUP reloads it; clients trust its CA: iotactl configure --ca-file)`,
    );
    expect(server.output()).not.toContain("SHA-256 fingerprint");
    const port = Number(new URL(server.url).port);
    const served = await peerCertificate(port, await Bun.file(one.root).text());
    expect(served.subject).toContain("CN=one server");
    // The chain has no root, so the service cannot hand one out: clients pin the operator's CA themselves.
    const res = await fetch(`${server.url}/v1/server-ca`, {
      tls: { ca: await Bun.file(one.root).text() },
    });
    expect(res.status).toBe(404);

    const two = files(dir, "two");
    // The new chain ends in its root: GET /v1/server-ca then answers it.
    writeFileSync(
      one.chain,
      (await Bun.file(two.chain).text()) + (await Bun.file(two.root).text()),
    );
    writeFileSync(one.key, await Bun.file(two.key).text());
    server.proc.kill("SIGHUP");
    const twoRoot = await Bun.file(two.root).text();
    let now = served;
    const resets = { count: 0 };
    const deadline = Date.now() + 10_000;
    while (now.serialNumber === served.serialNumber && Date.now() < deadline) {
      await Bun.sleep(100);
      now = await peerCertificateAcrossSwap(port, resets);
    }
    expect(resets.count).toBeLessThanOrEqual(1);
    expect((await peerCertificate(port, twoRoot)).serialNumber).not.toBe(served.serialNumber);
    const root = await fetch(`${server.url}/v1/server-ca`, { tls: { ca: twoRoot } });
    expect(await root.text()).toBe(twoRoot);

    writeFileSync(one.key, "not a key\n");
    server.proc.kill("SIGHUP");
    const logged = Date.now() + 10_000;
    while (!server.output().includes("kept the TLS certificate in use") && Date.now() < logged)
      await Bun.sleep(100);
    expect(server.output()).toContain(
      `SIGHUP: kept the TLS certificate in use: --tls-key ${one.key}`,
    );
    expect((await peerCertificate(port, twoRoot)).serialNumber).toBe(now.serialNumber);
  } finally {
    await server.stop();
  }
}, 60_000);

test("unusable TLS files stop the start with exit 3 naming the file; plain HTTP beyond loopback warns", async () => {
  const run = (...args: string[]) =>
    spawnSync(
      BUN,
      [
        join(ROOT, "src/iota-server/main.ts"),
        "--data",
        join(tmp, "bad"),
        "--listen",
        "127.0.0.1:0",
        ...args,
      ],
      {
        encoding: "utf8",
        timeout: 30_000,
      },
    );
  const missing = run("--tls-cert", join(tmp, "nope.pem"), "--tls-key", join(tmp, "nope.key"));
  expect(missing.status).toBe(3);
  expect(missing.stderr).toContain(`--tls-cert ${join(tmp, "nope.pem")}: cannot read it`);
  const conflicting = run("--plain-http", "--tls-cert", "x");
  expect(conflicting.status).toBe(2);

  const wide = await startServerProcess({ tls: false, args: ["--listen", "0.0.0.0:0"] });
  try {
    expect(wide.url).toStartWith("http://");
    expect(wide.output()).toContain(
      "--plain-http on 0.0.0.0: admin tokens, group secrets and device tokens cross the network in clear text",
    );
  } finally {
    await wide.stop();
  }
  const local = await startServerProcess({ tls: false });
  try {
    expect(local.output()).not.toContain("clear text");
  } finally {
    await local.stop();
  }
}, 60_000);
