/** Fuzzing the API in process: thousands of hostile requests on every route; each must get a 4xx problem, never a 5xx. */

import { expect, test } from "bun:test";
import { createCsrPem, generateDeviceKey } from "../../src/core/csr.ts";
import { x509 } from "../../src/core/x509.ts";
import { signRenewProof } from "../../src/core/renew-proof.ts";
import {
  createDevices,
  createGroup,
  createTestService,
  deviceCsr,
  postJson,
  provisionDevice,
} from "../helpers/test-service.ts";
import { nextCase, type FuzzCase, type FuzzWorld } from "./api-cases.ts";
import { hostileCsrs, selfSigned } from "./hostile-csrs.ts";
import { countFromEnv, Histogram, seedFromEnv } from "./prng.ts";

const CASES = countFromEnv("FUZZ_CASES", 3000);

/** Why `res` is not an acceptable answer to `c`, or undefined. */
async function verdict(c: FuzzCase, res: Response, secrets: string[]): Promise<string | undefined> {
  const text = await res.text();
  if (res.status >= 500) return `a ${res.status}: ${text.slice(0, 300)}`;
  for (const s of secrets) if (text.includes(s)) return "the answer contains a secret or token";
  if (res.status < 300 && c.expect === "bulk") {
    const created = (JSON.parse(text) as { created?: unknown[] }).created;
    return Array.isArray(created) && created.length === 0
      ? undefined
      : `invalid names created devices: ${text.slice(0, 200)}`;
  }
  if (res.status < 300 && c.expect === "page")
    return Array.isArray((JSON.parse(text) as { items?: unknown }).items)
      ? undefined
      : "not a page";
  if (res.status < 400) return `accepted (${res.status}): ${text.slice(0, 200)}`;
  const type = res.headers.get("content-type") ?? "";
  if (!type.startsWith("application/problem+json")) return `content-type ${type}`;
  const problem = JSON.parse(text) as { status?: unknown; title?: unknown; detail?: unknown };
  if (problem.status !== res.status)
    return `problem status ${String(problem.status)} differs from ${res.status}`;
  if (
    typeof problem.title !== "string" ||
    problem.title === "" ||
    typeof problem.detail !== "string" ||
    problem.detail === ""
  )
    return "no title or detail";
  if (res.status === 429 && !res.headers.get("retry-after")) return "429 without Retry-After";
  return undefined;
}

test(`${CASES} hostile requests on every route: always a 4xx problem+json, never a 5xx; the service still works after`, async () => {
  const rng = seedFromEnv("api fuzz");
  // Hint: the limits are raised so the deeper checks (CSR, proof) are reached; throttling is tested in test/security.
  const svc = await createTestService({
    issueRate: { rate: 1e9, burst: 1e9 },
    failureRate: { rate: 1e9, burst: 1e9 },
  });
  const secret = await createGroup(svc, "fuzz-group", { validity: "1h" });
  await createDevices(svc, "fuzz-group", [
    "fuzz-device",
    "fuzz-sibling",
    "fuzz-renewer",
    "fuzz-peer",
  ]);
  const renewer = await provisionDevice(svc, "fuzz-group", "fuzz-renewer", secret);
  const peer = await provisionDevice(svc, "fuzz-group", "fuzz-peer", secret);
  const world: FuzzWorld = {
    adminToken: svc.adminToken,
    group: "fuzz-group",
    secret,
    device: "fuzz-device",
    sibling: "fuzz-sibling",
    deviceCsr: (await deviceCsr("fuzz-device")).csr,
    csrs: await hostileCsrs("fuzz-device", "fuzz-other"),
    renewer: {
      certificate: renewer.issued.certificate,
      privateKey: renewer.keys.privateKey,
      nextCsr: (await deviceCsr("fuzz-renewer")).csr,
      sameKeyCsr: renewer.csr,
    },
    peerCertificate: peer.issued.certificate,
    foreignCertificate: (await selfSigned(await generateDeviceKey(), "fuzz-renewer")).toString(
      "pem",
    ),
    now: () => svc.clock.now,
  };
  const histogram = new Histogram();
  const failures: string[] = [];
  for (let i = 0; i < CASES; i++) {
    const c = await nextCase(rng, world);
    const init: RequestInit = { method: c.method, headers: c.headers };
    if (c.body !== undefined) init.body = c.body;
    const res = await svc.app.request(c.path, init);
    histogram.add(`${res.status} ${c.route}`);
    const problem = await verdict(c, res, [secret, svc.adminToken]);
    if (problem && failures.length < 20)
      failures.push(
        `case ${i} ${c.method} ${c.path.slice(0, 120)} body ${c.route.includes("renew") ? String(c.body).replace(/-----BEGIN[^-]*-----[^-]*-----END[^-]*-----/g, "<pem>") : String(c.body).slice(0, 160)}: ${problem}`,
      );
  }
  console.log(
    `api fuzz: ${histogram.total()} cases, outcomes (status route):\n${histogram.format()}`,
  );
  expect(failures).toEqual([]);
  expect(svc.log.lines.filter((l) => l.startsWith("error"))).toEqual([]);

  // Still serving: nothing was created or changed by the hostile requests, and valid requests succeed.
  const list = (await (await svc.call("GET", "/v1/groups")).json()) as {
    items: { name: string }[];
  };
  expect(list.items.map((g) => g.name)).toEqual(["fuzz-group"]);
  const devices = (await (await svc.call("GET", "/v1/groups/fuzz-group/devices")).json()) as {
    items: { name: string; state: string; serial: string | null }[];
  };
  expect(devices.items.map((d) => `${d.name}:${d.state}`)).toEqual([
    "fuzz-device:created",
    "fuzz-peer:provisioned",
    "fuzz-renewer:provisioned",
    "fuzz-sibling:created",
  ]);
  expect(devices.items.find((d) => d.name === "fuzz-renewer")?.serial).toBe(renewer.issued.serial);
  expect((await svc.call("POST", "/v1/groups", { name: "after-fuzz" })).status).toBe(201);
  expect(
    (
      await postJson(svc, "/v1/provision", {
        group: "fuzz-group",
        device: "fuzz-device",
        csr: world.deviceCsr,
        secret,
      })
    ).status,
  ).toBe(201);
  const keys = await generateDeviceKey();
  const csr = await createCsrPem(keys, "fuzz-renewer");
  const serial = new x509.X509Certificate(renewer.issued.certificate).serialNumber;
  const proof = await signRenewProof(renewer.keys.privateKey, serial, csr, new Date(svc.clock.now));
  expect(
    (await postJson(svc, "/v1/renew", { certificate: renewer.issued.certificate, ...proof }))
      .status,
  ).toBe(201);
  expect((await svc.app.request("/v1/crl")).status).toBe(200);
}, 600_000);
