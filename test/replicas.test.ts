/** Two real iota-server replicas on one PostgreSQL: races are decided by the database, the CRL is shared. */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { SQL, type Subprocess } from "bun";
import { startTestPostgres, type TestPostgres } from "./helpers/postgres.ts";
import { createCsrPem, generateDeviceKey } from "../src/core/csr.ts";
import { signRenewProof } from "../src/core/renew-proof.ts";
import { x509 } from "../src/core/x509.ts";

const ROOT = resolve(import.meta.dir, "..");
const BUN = join(ROOT, "node_modules", ".bin", "bun");
const GROUP = "factory-line-1";

/** A running replica: its base URL and the tail of what it logged (for failure messages). */
interface Replica {
  name: string;
  url: string;
  data: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  log: () => string;
  /** The server CA this replica wrote to its data folder (what its clients trust). */
  serverCa: string;
}

let pg: TestPostgres | undefined;
let a: Replica;
let b: Replica;
let token = "";
const work = mkdtempSync(join(tmpdir(), "iota-replicas-"));
const running: Replica[] = [];

/** Reads a stream to the end in the background, keeping the last 20 kB, so the child never blocks on a full pipe. */
function drain(stream: ReadableStream<Uint8Array>, onText: (text: string) => void): () => string {
  let kept = "";
  void (async () => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      const text = decoder.decode(value, { stream: true });
      kept = (kept + text).slice(-20_000);
      onText(text);
    }
  })();
  return () => kept;
}

/** Starts `bun src/iota-server/main.ts` and waits for its "listening on URL" line. */
async function startReplica(name: string, dbUrl: string, masterKey: string): Promise<Replica> {
  const data = join(work, name);
  const proc = Bun.spawn(
    [BUN, "src/iota-server/main.ts", "--data", data, "--listen", "127.0.0.1:0", "--db", dbUrl],
    {
      cwd: ROOT,
      env: {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("IOTA_"))),
        IOTA_MASTER_KEY: masterKey,
      },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    },
  );
  let out = "";
  const listening = Promise.withResolvers<string>();
  const stderr = drain(proc.stderr, () => {});
  const stdout = drain(proc.stdout, (text) => {
    out += text;
    const match = /listening on (https:\/\/\S+)[\s\S]*SHA-256 fingerprint/.exec(out);
    if (match?.[1]) listening.resolve(match[1]);
  });
  void proc.exited.then((code) =>
    listening.reject(
      new Error(`replica ${name} exited (${code}) before listening:\n${stdout()}\n${stderr()}`),
    ),
  );
  const replica: Replica = {
    name,
    url: "",
    data,
    proc,
    log: () => `${stdout()}\n${stderr()}`,
    serverCa: "",
  };
  running.push(replica);
  replica.url = await listening.promise;
  replica.serverCa = readFileSync(join(data, "server-ca.pem"), "utf8");
  return replica;
}

async function call(
  replica: Replica,
  method: string,
  path: string,
  body?: unknown,
): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  return await fetch(`${replica.url}${path}`, {
    method,
    headers,
    tls: { ca: replica.serverCa },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
}

async function json<T>(res: Response, expected: number, what: string): Promise<T> {
  const text = await res.text();
  if (res.status !== expected)
    throw new Error(`${what}: expected ${expected}, got ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** Serials the CRL lists, read by `openssl crl` as Mosquitto and operators would. */
function crlSerials(pem: string): string[] {
  const file = join(work, `crl-${randomBytes(4).toString("hex")}.pem`);
  writeFileSync(file, pem);
  const text = execFileSync("openssl", ["crl", "-in", file, "-noout", "-text"]).toString();
  return [...text.matchAll(/Serial Number: ([0-9A-Fa-f]+)/g)].map((m) => normalSerial(m[1] ?? ""));
}

const normalSerial = (hex: string) => hex.toUpperCase().replace(/^0+/, "");

beforeAll(async () => {
  pg = await startTestPostgres();
  const masterKey = randomBytes(32).toString("base64url");
  // Hint: started together on purpose, so migrations and the default tenant are raced for.
  [a, b] = await Promise.all([
    startReplica("a", pg.url, masterKey),
    startReplica("b", pg.url, masterKey),
  ]);
  const tokenFiles = [a, b].map((r) => join(r.data, "admin-token")).filter((f) => existsSync(f));
  expect(tokenFiles.length).toBe(1);
  token = readFileSync(tokenFiles[0] ?? "", "utf8").trim();
}, 120_000);

afterAll(async () => {
  for (const replica of running) replica.proc.kill("SIGTERM");
  await Promise.all(running.map((r) => r.proc.exited));
  await pg?.stop();
  rmSync(work, { recursive: true, force: true });
}, 60_000);

test("both replicas serve HTTPS from the one server CA in the database, so a client pinned to it trusts either", async () => {
  expect(a.serverCa).toBe(b.serverCa);
  expect(a.serverCa).toContain("BEGIN CERTIFICATE");
  // Hint: B's own certificate verifies with only A's copy of the CA: one trust anchor for the whole deployment.
  const res = await fetch(`${b.url}/v1/server-ca`, { tls: { ca: a.serverCa } });
  expect(await res.text()).toBe(a.serverCa);
});

test("both replicas serve the same tenant CA and accept the same admin token", async () => {
  const [caA, caB] = await Promise.all([
    fetch(`${a.url}/v1/ca`, { tls: { ca: a.serverCa } }).then((r) => r.text()),
    fetch(`${b.url}/v1/ca`, { tls: { ca: b.serverCa } }).then((r) => r.text()),
  ]);
  expect(caA).toContain("BEGIN CERTIFICATE");
  expect(caB).toBe(caA);
  await json(await call(a, "POST", "/v1/groups", { name: GROUP }), 201, "create group on A");
  const group = await json<{ name: string }>(
    await call(b, "GET", `/v1/groups/${GROUP}`),
    200,
    "show group on B",
  );
  expect(group.name).toBe(GROUP);
});

test("overlapping bulk creations on both replicas at once create each device exactly once", async () => {
  const onA = Array.from({ length: 600 }, (_, i) => `dev-${String(i).padStart(4, "0")}`);
  const onB = Array.from(
    { length: 600 },
    (_, i) => `dev-${String(i + 300).padStart(4, "0")}`,
  ).reverse();
  type Bulk = { created: string[]; existing: string[]; invalid: unknown[] };
  const [ra, rb] = await Promise.all([
    call(a, "POST", `/v1/groups/${GROUP}/devices`, { names: onA }),
    call(b, "POST", `/v1/groups/${GROUP}/devices`, { names: onB }),
  ]);
  const [bulkA, bulkB] = [
    await json<Bulk>(ra, 200, "bulk on A"),
    await json<Bulk>(rb, 200, "bulk on B"),
  ];
  const createdB = new Set(bulkB.created);
  expect(bulkA.created.filter((n) => createdB.has(n))).toEqual([]);
  expect(new Set([...bulkA.created, ...bulkB.created]).size).toBe(900);
  expect(bulkA.created.length + bulkA.existing.length).toBe(600);
  expect(bulkB.created.length + bulkB.existing.length).toBe(600);
  const names: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await json<{ items: { name: string }[]; nextCursor?: string }>(
      await call(
        b,
        "GET",
        `/v1/groups/${GROUP}/devices?limit=250${cursor ? `&cursor=${cursor}` : ""}`,
      ),
      200,
      "list on B",
    );
    names.push(...page.items.map((d) => d.name));
    cursor = page.nextCursor;
  } while (cursor);
  expect(names).toEqual([...new Set([...onA, ...onB])].sort());
}, 60_000);

let winner: { keys: CryptoKeyPair; serial: string; certificate: string } | undefined;

test("concurrent provisioning of one device with different keys on both replicas issues exactly one certificate", async () => {
  const secretRes = await json<{ provisioningSecret: string }>(
    await call(a, "POST", `/v1/groups/${GROUP}/secret`),
    200,
    "rotate secret on A",
  );
  const device = "dev-0007";
  const attempts = await Promise.all(
    Array.from({ length: 12 }, async () => {
      const keys = await generateDeviceKey();
      return { keys, csr: await createCsrPem(keys, device) };
    }),
  );
  const answers = await Promise.all(
    attempts.map(async ({ csr }, i) => {
      const res = await fetch(`${(i % 2 ? b : a).url}/v1/provision`, {
        tls: { ca: a.serverCa },
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ group: GROUP, device, csr, secret: secretRes.provisioningSecret }),
      });
      return { status: res.status, body: await res.text() };
    }),
  );
  const statuses = answers.map((x) => x.status).sort();
  expect(statuses).toEqual([201, ...Array<number>(11).fill(409)]);
  const won = answers.findIndex((x) => x.status === 201);
  const issued = JSON.parse(answers[won]?.body ?? "{}") as { serial: string; certificate: string };
  winner = {
    keys: attempts[won]?.keys as CryptoKeyPair,
    serial: issued.serial,
    certificate: issued.certificate,
  };
  const db = new SQL(pg?.url ?? "", { max: 1 });
  try {
    const rows =
      await db`select serial from certificates where group_name = ${GROUP} and device = ${device}`;
    expect(rows.map((r: { serial: string }) => r.serial)).toEqual([issued.serial]);
  } finally {
    await db.close();
  }
}, 60_000);

test("a certificate issued by A renews on B, and a revocation on A is on B's CRL", async () => {
  if (!winner) throw new Error("the provisioning race test did not produce a certificate");
  // Hint: fetch B's CRL first, so B holds a cached CRL that the revocation must replace.
  expect(
    crlSerials(await fetch(`${b.url}/v1/crl`, { tls: { ca: a.serverCa } }).then((r) => r.text())),
  ).toEqual([]);
  const newKeys = await generateDeviceKey();
  const csr = await createCsrPem(newKeys, "dev-0007");
  const proof = await signRenewProof(winner.keys.privateKey, winner.serial, csr, new Date());
  const renewRes = await fetch(`${b.url}/v1/renew`, {
    tls: { ca: a.serverCa },
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ certificate: winner.certificate, ...proof }),
  });
  const renewed = await json<{ serial: string; certificate: string; ca: string }>(
    renewRes,
    201,
    "renew on B",
  );
  expect(renewed.serial).not.toBe(winner.serial);
  const cert = new x509.X509Certificate(renewed.certificate);
  expect(
    await cert.verify({
      publicKey: new x509.X509Certificate(renewed.ca).publicKey,
      signatureOnly: true,
    }),
  ).toBe(true);

  await json(
    await call(a, "POST", `/v1/groups/${GROUP}/devices/dev-0007/revoke`),
    200,
    "revoke on A",
  );
  const listed = crlSerials(
    await fetch(`${b.url}/v1/crl`, { tls: { ca: a.serverCa } }).then((r) => r.text()),
  );
  expect(listed).toContain(normalSerial(renewed.serial));
  expect(listed).toContain(normalSerial(winner.serial));
  const device = await json<{ state: string }>(
    await call(b, "GET", `/v1/groups/${GROUP}/devices/dev-0007`),
    200,
    "show on B",
  );
  expect(device.state).toBe("revoked");
}, 60_000);
