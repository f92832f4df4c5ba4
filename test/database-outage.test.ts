/**
 * A replica whose PostgreSQL goes away answers 503 with Retry-After (clients and iotad retry), not 500, serves
 * the CRL it holds, and serves again once the database is back. The database is reached through a TCP relay
 * the test cuts.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { settleWithin } from "../src/core/deadline.ts";
import { x509 } from "../src/core/x509.ts";
import { provisionOver } from "./helpers/device-client.ts";
import { startPgRelay, type PgRelay } from "./helpers/pg-relay.ts";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.ts";
import { startServerProcess, type ServerProcess } from "./helpers/server-process.ts";

let pg: TestPostgres;
const work = mkdtempSync(join(tmpdir(), "iota-outage-"));
beforeAll(async () => {
  pg = await startTestPostgres();
});
afterAll(async () => {
  await pg?.stop();
  rmSync(work, { recursive: true, force: true });
});

/** Waits until the server's output matches `pattern` (its log reaches the pipe a little after the answer). */
async function logged(server: ServerProcess, pattern: RegExp): Promise<string> {
  for (let i = 0; i < 200 && !pattern.test(server.output()); i++) await Bun.sleep(50);
  return server.output();
}

/** Opens the relay again and expects `GET /v1/groups` to answer 200 (the service reconnects by itself). */
async function expectBack(server: ServerProcess, link: PgRelay): Promise<void> {
  await link.open();
  let seen = 0;
  for (let i = 0; i < 300 && seen !== 200; i++) {
    seen = (
      await server.fetch("/v1/groups", { headers: { authorization: `Bearer ${server.token()}` } })
    ).status;
    if (seen !== 200) await Bun.sleep(100);
  }
  expect(seen).toBe(200);
}

/** Runs `body` against a service reaching the database `url` through a relay the test cuts; stops both after. */
async function onRelay(
  url: string,
  body: (server: ServerProcess, link: PgRelay) => Promise<void>,
): Promise<void> {
  const link = await startPgRelay(url);
  const server = await startServerProcess({ tls: true, args: ["--db", link.url] });
  try {
    await body(server, link);
  } finally {
    await link.cut();
    await server.stop();
  }
}

test("PostgreSQL gone: 503 with Retry-After and the reason logged without the password; back: 200 again", async () => {
  await onRelay(pg.url, async (server, link) => {
    await server.admin("POST", "/v1/groups", { name: "lamps" }, 201);
    await link.cut();
    const down = await server.fetch("/v1/groups", {
      headers: { authorization: `Bearer ${server.token()}` },
    });
    expect(down.status).toBe(503);
    expect(down.headers.get("retry-after")).toBe("5");
    expect(((await down.json()) as { detail: string }).detail).toBe(
      "The database is unavailable; retry later",
    );
    const failed = /GET \/v1\/groups failed: the database is unavailable \(\w+\)/;
    expect(await logged(server, failed)).toMatch(failed);
    const password = new URL(pg.url).password;
    if (password) expect(server.output()).not.toContain(password);
    await expectBack(server, link);
  });
}, 120_000);

test("PostgreSQL cut off by the network: 503 with Retry-After before the listener gives up, logged; back: provisioning works", async () => {
  await onRelay(await pg.createDatabase(), async (server, link) => {
    const { provisioningSecret } = await server.admin("POST", "/v1/groups", { name: "lamps" }, 201);
    await server.admin("POST", "/v1/groups/lamps/devices", { name: "lamp-1" }, 201);
    // Hint: nothing refuses and nothing resets: what either side sends is dropped, as on a cut network path.
    link.freeze();
    const [listed, provisioning, ready, alive] = await Promise.all([
      server.fetch("/v1/groups", { headers: { authorization: `Bearer ${server.token()}` } }),
      provisionOver(server, "lamps", "lamp-1", String(provisioningSecret)),
      server.fetch("/readyz"),
      server.fetch("/healthz"),
    ]);
    // A balancer on /readyz takes this replica out; one on /healthz keeps it in for the CA and the CRL.
    expect(ready.status).toBe(503);
    expect(ready.headers.get("retry-after")).toBe("5");
    expect(alive.status).toBe(200);
    expect(listed.status).toBe(503);
    expect(listed.headers.get("retry-after")).toBe("5");
    expect(listed.headers.get("content-type")).toBe("application/problem+json");
    expect(((await listed.json()) as { detail: string }).detail).toBe(
      "The database did not answer in time; retry later",
    );
    expect(provisioning.answer.status).toBe(503);
    expect(provisioning.answer.retryAfter).toBe("5");
    const failed =
      /GET \/v1\/groups failed: the database did not answer a statement within 5 s, nor a check within 2 s more \(IOTA_DATABASE_NO_ANSWER\): is it cut off by the network\?/;
    expect(await logged(server, failed)).toMatch(failed);
    expect(
      await logged(server, /POST \/v1\/provision failed: the database did not answer/),
    ).toMatch(/POST \/v1\/provision failed: the database did not answer/);
    const password = new URL(pg.url).password;
    if (password) expect(server.output()).not.toContain(password);
    await link.cut();
    await expectBack(server, link);
    expect((await server.fetch("/readyz")).status).toBe(200);
    const again = await provisionOver(server, "lamps", "lamp-1", String(provisioningSecret));
    expect(again.answer.status).toBe(201);
  });
}, 120_000);

test("a replica whose PostgreSQL is cut off by the network still stops on SIGTERM, with exit 0", async () => {
  const link = await startPgRelay(await pg.createDatabase());
  const server = await startServerProcess({ tls: true, args: ["--db", link.url] });
  try {
    await server.admin("POST", "/v1/groups", { name: "lamps" }, 201);
    link.freeze();
    // A request whose statement waits on the silent database when the stop comes.
    const waiting = server
      .fetch("/v1/groups", { headers: { authorization: `Bearer ${server.token()}` } })
      .then((answer) => answer.status)
      .catch((error: Error) => error.message);
    await Bun.sleep(500);
    const stopped = await settleWithin(
      server.stop().then(() => "stopped"),
      45_000,
      () => "still running 45 s after SIGTERM",
    );
    expect(stopped).toBe("stopped");
    expect(server.proc.exitCode).toBe(0);
    expect(await waiting).toBe(503);
  } finally {
    await link.cut();
    if (server.proc.exitCode === null) server.proc.kill("SIGKILL");
  }
}, 120_000);

test("PostgreSQL gone: brokers still get the last CRL, which openssl accepts and which lists the revocation", async () => {
  await onRelay(await pg.createDatabase(), async (server, link) => {
    const { provisioningSecret } = await server.admin("POST", "/v1/groups", { name: "lamps" }, 201);
    await server.admin("POST", "/v1/groups/lamps/devices", { name: "lamp-1" }, 201);
    const provisioned = await provisionOver(server, "lamps", "lamp-1", String(provisioningSecret));
    expect(provisioned.answer.status).toBe(201);
    const { certificate, serial } = provisioned.answer.body as {
      certificate: string;
      serial: string;
    };
    await server.admin("POST", "/v1/groups/lamps/devices/lamp-1/revoke", undefined, 200);
    const ca = await (await server.fetch("/v1/ca")).text();
    const before = await server.fetch("/v1/crl");
    expect(before.status).toBe(200);
    const crl = await before.text();
    await link.cut();
    const during = await server.fetch("/v1/crl");
    expect(during.status).toBe(200);
    expect(during.headers.get("content-type")).toBe("application/x-pem-file");
    expect(await during.text()).toBe(crl);
    writeFileSync(join(work, "ca.pem"), ca);
    writeFileSync(join(work, "crl.pem"), crl);
    writeFileSync(join(work, "lamp-1.pem"), certificate);
    // Signed by the tenant CA, as a broker checks it before installing it, and listing the revoked certificate.
    const checked = execFileSync(
      "openssl",
      ["crl", "-in", "crl.pem", "-CAfile", "ca.pem", "-noout", "-text"],
      { cwd: work, stdio: ["ignore", "pipe", "pipe"] },
    ).toString();
    expect(checked.toUpperCase()).toContain(`SERIAL NUMBER: ${serial.toUpperCase()}`);
    const verify = spawnSync(
      "openssl",
      ["verify", "-crl_check", "-CAfile", "ca.pem", "-CRLfile", "crl.pem", "lamp-1.pem"],
      { cwd: work, encoding: "utf8" },
    );
    expect(verify.status).not.toBe(0);
    expect(`${verify.stdout}${verify.stderr}`).toContain("certificate revoked");
    const serving =
      /GET \/v1\/crl: the database is unavailable \(\w+\); serving the CRL number \d+ signed at \S+, valid until \S+/;
    expect(await logged(server, serving)).toMatch(serving);
    expect((await server.fetch("/v1/ca")).status).toBe(200);
    await expectBack(server, link);
  });
}, 120_000);

test("a replica follows the CRL other replicas sign, unasked (every 5 s), and serves it through an outage", async () => {
  const url = await pg.createDatabase();
  const env = { IOTA_MASTER_KEY: randomBytes(32).toString("base64url") };
  const link = await startPgRelay(url);
  const a = await startServerProcess({ tls: true, args: ["--db", link.url], env });
  const b = await startServerProcess({ tls: true, args: ["--db", url], env });
  try {
    const { provisioningSecret } = await a.admin("POST", "/v1/groups", { name: "lamps" }, 201);
    await a.admin("POST", "/v1/groups/lamps/devices", { name: "lamp-1" }, 201);
    const provisioned = await provisionOver(a, "lamps", "lamp-1", String(provisioningSecret));
    expect(provisioned.answer.status).toBe(201);
    const serial = String((provisioned.answer.body as { serial: string }).serial);
    const listed = async (server: ServerProcess) =>
      (new x509.X509Crl(await (await server.fetch("/v1/crl")).text()).entries ?? []).map((e) =>
        e.serialNumber.toLowerCase(),
      );
    expect(await listed(a)).not.toContain(serial.toLowerCase());
    // Revoked through the other replica (the tenant's admin token is the one A wrote); A is not asked meanwhile.
    const revoked = await b.fetch("/v1/groups/lamps/devices/lamp-1/revoke", {
      method: "POST",
      headers: { authorization: `Bearer ${a.token()}` },
    });
    expect(revoked.status).toBe(200);
    expect(await listed(b)).toContain(serial.toLowerCase());
    // Hint: two refreshes of A start within 10 s of the revoke; the 2 s beyond let the later one finish on a
    // loaded machine too.
    await Bun.sleep(12_000);
    await link.cut();
    expect(await listed(a)).toContain(serial.toLowerCase());
  } finally {
    await link.cut();
    await Promise.all([a.stop(), b.stop()]);
  }
}, 120_000);
