/**
 * The floor under provisioning: the CPU per device of the parts iota-server cannot do without, each in a bare
 * Bun.serve process under the provisioning benchmark's load. HTTP and JSON alone; plus the CSR verify and the
 * certificate signature; plus the store's durable provisioning write instead; and all of them together.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { createHash, createPublicKey, verify } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deviceCsrPem, printTable, processCpuSeconds, runLoad } from "./load.ts";
import { serverEnv, startChild, stop } from "./servers.ts";
import { openStore } from "../src/iota-server/store/sql-store.ts";
import { durableStore } from "../src/iota-server/store/group-commit.ts";
import { CertificateAuthority } from "../src/iota-server/ca/authority.ts";
import { decodePem } from "../src/core/pem.ts";
import { readPlainCsr } from "../src/iota-server/domain/csr-reader.ts";
import { REGISTERED } from "../src/core/enrollment.ts";

/** What a floor server does per request besides reading the JSON body and answering JSON. */
const MODES = {
  http: "HTTP + JSON",
  crypto: "HTTP + JSON + CSR verify + certificate sign",
  store: "HTTP + JSON + store reads + durable provisioning write",
  all: "all of the above",
} as const;
type Mode = keyof typeof MODES;

const DEVICES = Number(process.env.BENCH_DEVICES ?? 20_000);
const WARMUP = Number(process.env.BENCH_WARMUP ?? Math.min(10_000, Math.ceil(DEVICES / 2)));
const JSON_HEADERS = { "content-type": "application/json" };

/** Serves POST /v1/provision doing what `mode` names, on a fresh store in `dir`; prints where it listens. */
async function serve(mode: Mode, dir: string): Promise<void> {
  const url = `sqlite:${join(dir, "floor.db")}`;
  const store = durableStore(await openStore(url), url);
  const now = Date.now();
  await store.insertTenant({ id: "t", caCert: "-", caKeySealed: "-", createdAt: now });
  await store.insertGroup({
    ...{ tenantId: "t", name: "bench", secretSealed: "-", validity: 30 * 86_400, grace: 0 },
    ...{ createdAt: now, secretRotatedAt: now, ...REGISTERED },
  });
  const { ca } = await CertificateAuthority.create("floor", now);
  const withCrypto = mode === "crypto" || mode === "all";
  const withStore = mode === "store" || mode === "all";
  const provision = async (req: Request): Promise<Response> => {
    const body = (await req.json()) as { device: string; csr: string };
    if (mode === "http") return Response.json({ device: body.device }, { status: 201 });
    const csr = readPlainCsr(new Uint8Array(decodePem(body.csr)[0]?.der ?? []));
    if (!csr) return new Response("bad csr", { status: 400 });
    if (withCrypto) {
      const key = createPublicKey({ key: Buffer.from(csr.spki), format: "der", type: "spki" });
      if (!verify("sha256", csr.info, { key, dsaEncoding: "ieee-p1363" }, csr.signature))
        return new Response("bad signature", { status: 400 });
    }
    const at = Date.now();
    // Hint: without crypto, a certificate-sized stand-in is stored, so the store writes the same bytes.
    const cert = withCrypto
      ? await ca.issue(
          { tenant: "t", group: "bench", device: body.device },
          csr.spki,
          30 * 86_400,
          at,
        )
      : {
          pem: "-".repeat(760),
          serial: createHash("md5").update(body.device).digest("hex"),
          notBefore: at - 60_000,
          notAfter: at + 30 * 86_400_000,
        };
    if (withStore) {
      const key = { tenantId: "t", group: "bench", name: body.device };
      await store.getGroup("t", "bench");
      await store.getDevice(key);
      const keyHash = createHash("sha256").update(csr.spki).digest("hex");
      const recorded = await store.recordProvisioned(key, {
        ...{ serial: cert.serial, keyHash, certificate: cert.pem },
        ...{ notBefore: cert.notBefore, notAfter: cert.notAfter, issuedAt: at },
      });
      if (!recorded) return new Response("not recorded", { status: 409 });
    }
    const answer = { certificate: cert.pem, chain: `${cert.pem}${ca.certPem}`, ca: ca.certPem };
    return new Response(JSON.stringify(answer), { status: 201, headers: JSON_HEADERS });
  };
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    routes: {
      "/devices": {
        POST: async (req) => {
          const { names } = (await req.json()) as { names: string[] };
          await store.insertDevices("t", "bench", names, Date.now());
          return new Response("{}", { headers: JSON_HEADERS });
        },
      },
      "/v1/provision": { POST: provision },
    },
    fetch: () => new Response("not found", { status: 404 }),
  });
  console.log(`listening on http://127.0.0.1:${server.port}`);
}

/** Measures one floor server: server CPU per device over the measured requests. */
async function measureMode(mode: Mode, bodies: string[], names: string[]): Promise<string[]> {
  const dir = mkdtempSync(join(tmpdir(), "iota-floor-"));
  const { child, firstLine } = await startChild(
    process.execPath,
    [import.meta.path, "--serve", mode, dir],
    join(dir, "floor.log"),
    undefined,
    // Hint: the same allocator setting as the iota-server it is compared with.
    serverEnv(),
  );
  try {
    const base = /listening on (\S+)/.exec(firstLine)?.[1];
    if (!base) throw new Error(`the floor server did not start: ${firstLine}`);
    await fetch(`${base}/devices`, { method: "POST", body: JSON.stringify({ names }) });
    await runLoad(`${base}/v1/provision`, bodies.slice(0, WARMUP), 64);
    const cpu0 = processCpuSeconds(child.pid ?? 0);
    const load = await runLoad(`${base}/v1/provision`, bodies.slice(WARMUP), 64);
    const cpu = processCpuSeconds(child.pid ?? 0) - cpu0;
    if ((load.statuses.get(201) ?? 0) !== load.requests)
      throw new Error(
        `${mode}: not every request succeeded: ${JSON.stringify([...load.statuses])}`,
      );
    const n = load.requests;
    return [MODES[mode], `${Math.round((cpu / n) * 1e6)} us`, `${Math.round(n / load.seconds)}`];
  } finally {
    await stop(child);
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--serve") {
  await serve(process.argv[3] as Mode, process.argv[4] ?? tmpdir());
} else if (import.meta.main) {
  const names = Array.from({ length: DEVICES + WARMUP }, (_, i) => `bench-device-${i}`);
  const csrs: string[] = [];
  for (let i = 0; i < names.length; i += 500)
    csrs.push(...(await Promise.all(names.slice(i, i + 500).map((n) => deviceCsrPem(n)))));
  const bodies = names.map((device, i) => JSON.stringify({ group: "bench", device, csr: csrs[i] }));
  console.log(`\n## Provisioning floor: ${DEVICES} devices, 64 in flight, ${WARMUP} warm-up\n`);
  const rows = [["server does", "server CPU/device", "devices/s"]];
  for (const mode of Object.keys(MODES) as Mode[])
    rows.push(await measureMode(mode, bodies, names));
  printTable(rows);
}
