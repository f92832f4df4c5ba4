/** The hostile requests of the API fuzz test: every route, admin and public, each request broken in at least one way. */

import { isValidName } from "../../src/core/names.ts";
import { deviceToken } from "../../src/core/token.ts";
import { signRenewProof } from "../../src/core/renew-proof.ts";
import { x509 } from "../../src/core/x509.ts";
import {
  absentName,
  brokenPem,
  deepJson,
  hugeString,
  invalidDuration,
  invalidName,
  notAString,
  randomJson,
  randomString,
} from "./hostile-values.ts";
import type { HostileCsr } from "./hostile-csrs.ts";
import type { Prng } from "./prng.ts";

/** One request and what must come back. */
export interface FuzzCase {
  /** The route family, for the histogram. */
  route: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
  /** `problem`: a 4xx problem+json. `bulk`: 200 creating nothing, or a 4xx problem. `page`: 200 listing, or a 4xx problem. */
  expect: "problem" | "bulk" | "page";
}

/** What the generators build on: names that exist, their credentials, the hostile CSR pool, a device able to renew. */
export interface FuzzWorld {
  adminToken: string;
  group: string;
  secret: string;
  /** A device in state `created` (a valid provision of it would succeed). */
  device: string;
  /** Another device of the group, also `created`. */
  sibling: string;
  /** A valid CSR for `device`. */
  deviceCsr: string;
  csrs: HostileCsr[];
  /** A provisioned device's certificate and key, and CSRs for its next key and for its current key. */
  renewer: { certificate: string; privateKey: CryptoKey; nextCsr: string; sameKeyCsr: string };
  /** A certificate of the tenant CA for another device, and a self-signed one for this device. */
  peerCertificate: string;
  foreignCertificate: string;
  now: () => number;
}

const JSON_TYPE = { "content-type": "application/json" };

/** Percent-encodes every byte of the UTF-8 form (lone surrogates become U+FFFD instead of throwing like encodeURIComponent). */
function pct(text: string): string {
  return [...Buffer.from(text, "utf8")]
    .map((b) =>
      /[A-Za-z0-9_.~-]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, "0")}`,
    )
    .join("");
}

/** Makes any `name`/`names` that happens to be valid invalid, so random bodies can never create something. */
function spoilNames(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const obj = value as Record<string, unknown>;
  if (typeof obj.name === "string" && isValidName(obj.name)) obj.name = `${obj.name}_`;
  if (Array.isArray(obj.names))
    obj.names = obj.names.map((n) => (typeof n === "string" && isValidName(n) ? `${n}_` : n));
  return obj;
}

/** A path segment that is not a valid name (percent-encoded so it reaches the router) or a valid name that does not exist. */
function badSegment(rng: Prng): string {
  if (rng.chance(0.3)) return absentName(rng);
  const name = invalidName(rng);
  return pct(typeof name === "string" && name !== "" ? name : JSON.stringify(name));
}

/** A body that is not usable JSON: text, truncated, deep, huge, or sent with the wrong content type. */
function rawBody(rng: Prng): { headers: Record<string, string>; body: string } {
  const json = JSON.stringify(spoilNames(randomJson(rng, 4))) ?? "null";
  const choices: (() => { headers: Record<string, string>; body: string })[] = [
    () => ({ headers: JSON_TYPE, body: json }),
    () => ({ headers: JSON_TYPE, body: json.slice(0, rng.int(0, Math.max(0, json.length - 1))) }),
    () => ({ headers: JSON_TYPE, body: randomString(rng, 200) }),
    () => ({ headers: JSON_TYPE, body: deepJson(rng) }),
    () => ({ headers: JSON_TYPE, body: `{"name":"${hugeString(rng)}"}` }),
    () => ({ headers: JSON_TYPE, body: "" }),
    () => ({
      headers: {
        "content-type": rng.pick([
          "text/plain",
          "application/x-www-form-urlencoded",
          "multipart/form-data",
          "application/jsonx",
          "",
        ]),
      },
      body: json,
    }),
    () => ({ headers: {}, body: json }),
  ];
  return rng.pick(choices)();
}

/** Applies `count` distinct mutations from `mutations` (each of which alone makes the request invalid). */
function mutate(
  rng: Prng,
  mutations: ((b: Record<string, unknown>) => void | Promise<void>)[],
  count = rng.int(1, 3),
) {
  const chosen = new Set<number>();
  while (chosen.size < Math.min(count, mutations.length))
    chosen.add(rng.int(0, mutations.length - 1));
  return [...chosen].map(
    (i) => mutations[i] as (b: Record<string, unknown>) => void | Promise<void>,
  );
}

/** One random hostile request. */
export async function nextCase(rng: Prng, w: FuzzWorld): Promise<FuzzCase> {
  const admin = { authorization: `Bearer ${w.adminToken}` };
  const kind = rng.int(0, 11);
  if (kind === 0) {
    // Admin routes with a missing or wrong token.
    const auth = rng.pick([
      undefined,
      "",
      "Bearer",
      "Bearer ",
      `Bearer ${w.adminToken}x`,
      `Bearer ${w.adminToken.slice(1)}`,
      `Basic ${w.adminToken}`,
      `Bearer ${randomString(rng)}`,
      w.adminToken,
      `Bearer ${hugeString(rng).slice(0, 8000)}`,
    ]);
    const path = rng.pick([
      "/v1/groups",
      `/v1/groups/${w.group}`,
      `/v1/groups/${w.group}/devices`,
      `/v1/groups/${w.group}/devices/${w.device}`,
      `/v1/groups/${w.group}/secret`,
      `/v1/groups/${w.group}/devices/${w.device}/revoke`,
    ]);
    const method = rng.pick(["GET", "POST", "DELETE"]);
    const headers: Record<string, string> = { ...JSON_TYPE };
    // Hint: a header value with control characters cannot even be sent (fetch refuses it), so only printable ASCII.
    if (auth !== undefined) headers.authorization = auth.replace(/[^\x20-\x7e]/g, "?");
    return {
      route: `auth ${method} ${path.replace(w.group, "{g}").replace(w.device, "{d}")}`,
      method,
      path,
      headers,
      body: method === "POST" ? JSON.stringify({ name: w.device }) : undefined,
      expect: "problem",
    } as FuzzCase;
  }
  if (kind === 1) {
    const path = rng.pick([
      "/v1/groups",
      `/v1/groups/${absentName(rng)}/devices`,
      "/v1/provision",
      "/v1/renew",
    ]);
    const raw = rawBody(rng);
    return {
      route: `raw POST ${path.startsWith("/v1/groups/") ? "/v1/groups/{g}/devices" : path}`,
      method: "POST",
      path,
      headers: { ...admin, ...raw.headers },
      body: raw.body,
      expect: "problem",
    };
  }
  if (kind === 2) {
    const body: Record<string, unknown> = { name: absentName(rng), validity: "1h" };
    for (const m of mutate(rng, [
      (b) => {
        b.name = invalidName(rng);
      },
      (b) => {
        b.validity = invalidDuration(rng);
      },
      (b) => {
        b.renewGrace = rng.pick<unknown>(["abc", -1, "9999999d", null, [], "1 d"]);
      },
    ]))
      await m(body);
    if (rng.chance(0.2)) body[randomString(rng, 8)] = randomJson(rng);
    const whole = rng.chance(0.1) ? rng.pick<unknown>([[body], null, "x", 5]) : body;
    return {
      route: "POST /v1/groups",
      method: "POST",
      path: "/v1/groups",
      headers: { ...admin, ...JSON_TYPE },
      body: JSON.stringify(whole),
      expect: "problem",
    };
  }
  if (kind === 3) {
    const path = `/v1/groups/${w.group}/devices`;
    if (rng.chance(0.4))
      return {
        route: "POST /v1/groups/{g}/devices (one)",
        method: "POST",
        path,
        headers: { ...admin, ...JSON_TYPE },
        body: JSON.stringify({ name: invalidName(rng) }),
        expect: "problem",
      };
    if (rng.chance(0.5)) {
      const names = Array.from({ length: rng.int(0, 50) }, () => {
        const n = invalidName(rng);
        return typeof n === "string" ? n : "Bad";
      });
      return {
        route: "POST /v1/groups/{g}/devices (bulk of invalid names)",
        method: "POST",
        path,
        headers: { ...admin, ...JSON_TYPE },
        body: JSON.stringify({ names }),
        expect: "bulk",
      };
    }
    const names = rng.chance(0.05)
      ? `{"names":[${'"a-b",'.repeat(100_001)}"c"]}`
      : JSON.stringify({
          names: rng.pick<unknown>([
            null,
            true,
            0,
            {},
            { name: "a" },
            [1, 2],
            [null],
            [["a"]],
            [{}],
            "a,b",
          ]),
        });
    return {
      route: "POST /v1/groups/{g}/devices (bulk, wrong types)",
      method: "POST",
      path,
      headers: { ...admin, ...JSON_TYPE },
      body: names,
      expect: "problem",
    };
  }
  if (kind === 4) {
    const g = badSegment(rng);
    const d = badSegment(rng);
    const [method, path, route] = rng.pick<[string, string, string]>([
      ["GET", `/v1/groups/${g}`, "GET /v1/groups/{g}"],
      ["DELETE", `/v1/groups/${g}`, "DELETE /v1/groups/{g}"],
      ["POST", `/v1/groups/${g}/secret`, "POST /v1/groups/{g}/secret"],
      ["GET", `/v1/groups/${g}/devices`, "GET /v1/groups/{g}/devices"],
      [
        "GET",
        `/v1/groups/${rng.chance(0.5) ? w.group : g}/devices/${d}`,
        "GET /v1/groups/{g}/devices/{d}",
      ],
      [
        "DELETE",
        `/v1/groups/${rng.chance(0.5) ? w.group : g}/devices/${d}`,
        "DELETE /v1/groups/{g}/devices/{d}",
      ],
      [
        "POST",
        `/v1/groups/${rng.chance(0.5) ? w.group : g}/devices/${d}/revoke`,
        "POST .../revoke",
      ],
      ["POST", `/v1/groups/${rng.chance(0.5) ? w.group : g}/devices/${d}/reset`, "POST .../reset"],
      [
        rng.pick(["PUT", "PATCH"]),
        `/v1/groups/${w.group}/devices/${w.device}`,
        "PUT|PATCH (no such route)",
      ],
    ]);
    return {
      route,
      method,
      path,
      headers: { ...admin, ...JSON_TYPE },
      body: method === "GET" ? undefined : "{}",
      expect: "problem",
    } as FuzzCase;
  }
  if (kind === 5) {
    const limit = rng.pick([
      "0",
      "-1",
      "1001",
      "abc",
      "1.5",
      "",
      "1e4",
      "99999999999999999999",
      // Hint: never all digits, which could be a valid limit.
      pct(`${randomString(rng)}x`),
    ]);
    const query = rng.chance(0.5)
      ? `?limit=${limit}`
      : `?limit=${limit}&cursor=${pct(randomString(rng, 100))}`;
    if (rng.chance(0.2))
      return {
        route: "GET /v1/groups/{g}/devices?cursor=garbage",
        method: "GET",
        path: `/v1/groups/${w.group}/devices?cursor=${pct(randomString(rng, 300))}`,
        headers: admin,
        expect: "page",
      };
    if (rng.chance(0.3))
      return {
        route: "DELETE /v1/groups/{g}?force=bad",
        method: "DELETE",
        path: `/v1/groups/${w.group}?force=${pct(rng.pick(["yes", "1", "TRUE", "", `${randomString(rng, 5)}x`]))}`,
        headers: admin,
        expect: "problem",
      };
    return {
      route: "GET /v1/groups/{g}/devices?limit=bad",
      method: "GET",
      path: `/v1/groups/${w.group}/devices${query}`,
      headers: admin,
      expect: "problem",
    };
  }
  if (kind === 6) {
    const path = rng.pick(["/v1/ca", "/v1/crl"]);
    const tenant = rng.chance(0.5) ? absentName(rng) : pct(String(invalidName(rng)));
    return {
      route: `GET ${path}?tenant=bad`,
      method: "GET",
      path: `${path}?tenant=${tenant}`,
      headers: {},
      expect: "problem",
    };
  }
  if (kind <= 9) return await provisionCase(rng, w);
  return await renewCase(rng, w);
}

async function provisionCase(rng: Prng, w: FuzzWorld): Promise<FuzzCase> {
  const body: Record<string, unknown> = {
    group: w.group,
    device: w.device,
    csr: w.deviceCsr,
    secret: w.secret,
  };
  const hostile = rng.pick(w.csrs);
  let label = "";
  const mutations = [
    (b: Record<string, unknown>) => {
      b.csr = hostile.pem;
      label = hostile.kind;
    },
    (b: Record<string, unknown>) => {
      b.csr = rng.pick<unknown>([
        brokenPem(rng, w.deviceCsr),
        notAString(rng),
        hugeString(rng),
        randomString(rng),
      ]);
    },
    (b: Record<string, unknown>) => {
      b.group = rng.chance(0.5) ? invalidName(rng) : absentName(rng);
    },
    (b: Record<string, unknown>) => {
      b.device = rng.pick<unknown>([invalidName(rng), absentName(rng), w.sibling]);
    },
    (b: Record<string, unknown>) => {
      b.secret = rng.pick<unknown>([
        `${w.secret}x`,
        w.secret.slice(1),
        "",
        notAString(rng),
        hugeString(rng).slice(0, 300),
        randomString(rng),
      ]);
    },
    (b: Record<string, unknown>) => {
      delete b.secret;
      b.token = rng.pick<unknown>([
        deviceToken(w.secret, w.group, w.sibling),
        deviceToken(`${w.secret}x`, w.group, w.device),
        deviceToken(w.secret, "other", w.device),
        "",
        notAString(rng),
        randomString(rng),
      ]);
    },
    // Hint: the right token always goes with the secret (both given is refused); no order of mutations can leave it alone.
    (b: Record<string, unknown>) => {
      b.token = deviceToken(w.secret, w.group, w.device);
      b.secret = w.secret;
    },
    (b: Record<string, unknown>) => {
      delete b.secret;
      delete b.token;
    },
    (b: Record<string, unknown>) => {
      b.tenant = rng.chance(0.5) ? invalidName(rng) : absentName(rng);
    },
  ];
  for (const m of mutate(rng, mutations)) await m(body);
  return {
    route: `POST /v1/provision${label ? ` (${label})` : ""}`,
    method: "POST",
    path: "/v1/provision",
    headers: JSON_TYPE,
    body: JSON.stringify(body),
    expect: "problem",
  };
}

async function renewCase(rng: Prng, w: FuzzWorld): Promise<FuzzCase> {
  const r = w.renewer;
  const sign = async (csr: string, at: number) =>
    await signRenewProof(r.privateKey, certSerial(r.certificate), csr, new Date(at));
  const body: Record<string, unknown> = {
    certificate: r.certificate,
    ...(await sign(r.nextCsr, w.now())),
  };
  const hostile = rng.pick(w.csrs);
  let label = "";
  const mutations = [
    (b: Record<string, unknown>) => {
      b.certificate = rng.pick<unknown>([
        brokenPem(rng, r.certificate),
        w.foreignCertificate,
        w.peerCertificate,
        notAString(rng),
        hugeString(rng),
      ]);
    },
    async (b: Record<string, unknown>) => {
      Object.assign(b, await sign(hostile.pem, w.now()));
      label = `re-signed ${hostile.kind}`;
    },
    async (b: Record<string, unknown>) => {
      Object.assign(b, await sign(r.sameKeyCsr, w.now()));
      label = "same key";
    },
    (b: Record<string, unknown>) => {
      b.csr = rng.pick<unknown>([hostile.pem, brokenPem(rng, r.nextCsr), notAString(rng)]);
    },
    async (b: Record<string, unknown>) =>
      void Object.assign(
        b,
        await sign(r.nextCsr, w.now() + rng.pick([-1, 1]) * rng.int(301_000, 10 ** 10)),
      ),
    (b: Record<string, unknown>) => {
      b.timestamp = rng.pick<unknown>([
        new Date(w.now() + 1000).toISOString(),
        "",
        "yesterday",
        notAString(rng),
        randomString(rng, 70),
      ]);
    },
    (b: Record<string, unknown>) => {
      b.signature = rng.pick<unknown>([
        "",
        "AAAA",
        Buffer.alloc(64).toString("base64url"),
        Buffer.alloc(64, 1).toString("base64"),
        notAString(rng),
        randomString(rng, 300),
      ]);
    },
    (b: Record<string, unknown>) =>
      void delete b[rng.pick(["certificate", "csr", "timestamp", "signature"])],
  ];
  for (const m of mutate(rng, mutations)) await m(body);
  return {
    route: `POST /v1/renew${label ? ` (${label})` : ""}`,
    method: "POST",
    path: "/v1/renew",
    headers: JSON_TYPE,
    body: JSON.stringify(body),
    expect: "problem",
  };
}

/** The serial (hex) of a PEM certificate. */
function certSerial(pem: string): string {
  return new x509.X509Certificate(pem).serialNumber;
}
