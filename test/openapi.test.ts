/**
 * The OpenAPI document as a contract: Redocly CLI's recommended ruleset finds no error in it, every operation
 * declares its security, answers and query parameters, and real answers of a running service validate against
 * its schemas (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses it).
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import Ajv2020 from "ajv/dist/2020.js";
import { openApiDocument } from "../src/iota-server/http/openapi.ts";
import { QUERY_PARAMS } from "../src/iota-server/http/known-query.ts";
import { x509 } from "../src/core/x509.ts";
import { signRenewProof } from "../src/core/renew-proof.ts";
import {
  createDevices,
  createGroup,
  createTestService,
  deviceCsr,
  postJson,
  provisionDevice,
  type TestService,
} from "./helpers/test-service.ts";

const ROOT = resolve(import.meta.dir, "..");
type Operation = {
  operationId?: string;
  requestBody?: unknown;
  security?: unknown[];
  parameters?: { name: string; in: string }[];
  responses: Record<string, { content?: Record<string, { schema?: unknown }> }>;
};
const doc = openApiDocument() as {
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation> & { parameters?: unknown[] }>;
};
const METHODS = ["get", "post", "delete", "put", "patch"];
const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
  METHODS.filter((m) => item[m]).map((m) => ({ path, method: m, op: item[m] as Operation })),
);

test("Redocly CLI's recommended ruleset finds no error (only the 4xx note on the two answers that have none)", () => {
  const dir = mkdtempSync(join(tmpdir(), "iota-openapi-"));
  try {
    const file = join(dir, "openapi.json");
    writeFileSync(file, JSON.stringify(openApiDocument(), null, 2));
    const lint = Bun.spawnSync(
      [
        join(ROOT, "node_modules/.bin/redocly"),
        "lint",
        "--config",
        join(ROOT, "redocly.yaml"),
        "--format",
        "json",
        file,
      ],
      {
        cwd: dir,
        env: { ...process.env, REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
        stdout: "pipe",
        stderr: "pipe",
      },
    );
    const out = lint.stdout.toString();
    if (!out.trim().startsWith("{"))
      throw new Error(`redocly lint printed no JSON (exit ${lint.exitCode}): ${lint.stderr}`);
    const report = JSON.parse(out) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; severity: string; location: { pointer: string }[] }[];
    };
    expect(report.problems.filter((p) => p.severity === "error")).toEqual([]);
    expect(report.totals.errors).toBe(0);
    const warnings = report.problems.map((p) => `${p.ruleId} ${p.location[0]?.pointer}`).sort();
    expect(warnings).toEqual([
      "operation-4xx-response #/paths/~1healthz/get/responses",
      "operation-4xx-response #/paths/~1readyz/get/responses",
    ]);
    expect(lint.exitCode).toBe(0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

test("servers are declared; every operation has an id, its security, and a schema for each success body", () => {
  expect(doc.servers?.length).toBeGreaterThan(0);
  const publicOps = [
    "provision",
    "renew",
    "getCa",
    "getCrl",
    "getServerCa",
    "getOpenApi",
    "getHealth",
    "getReadiness",
  ];
  for (const { path, method, op } of operations) {
    const where = `${method.toUpperCase()} ${path}`;
    expect({ where, id: typeof op.operationId }).toEqual({ where, id: "string" });
    const isPublic = publicOps.includes(op.operationId ?? "");
    expect({ where, security: op.security }).toEqual({
      where,
      security: isPublic ? [] : [{ adminToken: [] }],
    });
    for (const [status, answer] of Object.entries(op.responses)) {
      if (!status.startsWith("2") || status === "204") continue;
      for (const [type, media] of Object.entries(answer.content ?? {}))
        expect({ where, status, type, schema: media.schema !== undefined }).toEqual({
          where,
          status,
          type,
          schema: true,
        });
      expect({ where, status, content: answer.content !== undefined }).toEqual({
        where,
        status,
        content: true,
      });
    }
  }
});

test("every query parameter the routes read is declared, and no other", () => {
  const declared = (path: string, method: string) =>
    (doc.paths[path]?.[method]?.parameters ?? [])
      .filter((p) => p.in === "query")
      .map((p) => p.name)
      .sort();
  expect(declared("/v1/groups/{group}/devices", "get")).toEqual(
    ["cursor", "expiringBefore", "limit", "online", "overdue", "q", "state"].sort(),
  );
  // The service refuses any parameter its table does not name (known-query.ts): the document says the same.
  for (const { path, method } of operations) {
    const route = `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ":$1")}`;
    const served = path.startsWith("/v1/") ? [...(QUERY_PARAMS[route] ?? [])].sort() : [];
    expect({ route, query: declared(path, method) }).toEqual({ route, query: served });
  }
  const documented = new Set(operations.map((o) => `${o.method.toUpperCase()} ${o.path}`));
  for (const route of Object.keys(QUERY_PARAMS))
    expect({ route, documented: documented.has(route.replace(/:(\w+)/g, "{$1}")) }).toEqual({
      route,
      documented: true,
    });
});

test("reset's optional body is documented: forgetKey", () => {
  const reset = doc.paths["/v1/groups/{group}/devices/{device}/reset"]?.post as Operation & {
    requestBody?: { required: boolean; content: Record<string, { schema: unknown }> };
  };
  expect(reset.requestBody?.required).toBe(false);
  expect(reset.requestBody?.content["application/json"]?.schema).toMatchObject({
    type: "object",
    properties: { forgetKey: { type: "boolean" } },
    additionalProperties: false,
  });
});

describe("real answers validate against the document's schemas", () => {
  let svc: TestService;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  ajv.addFormat(
    "date-time",
    (text: string) => /^\d{4}-\d{2}-\d{2}T/.test(text) && !Number.isNaN(Date.parse(text)),
  );
  ajv.addSchema({ ...openApiDocument(), $id: "iota" });
  const checked = new Set<string>();
  const sentBodies = new Set<string>();

  /**
   * Validates `res` against the schema the document gives its path, method and status, and `sent`, the body
   * the request carried, against its request body: a body the service took must be one the document describes.
   */
  async function check(
    path: string,
    method: string,
    res: Response,
    sent?: unknown,
  ): Promise<unknown> {
    if (sent !== undefined && res.ok) {
      const at = `/paths/${path.replaceAll("~", "~0").replaceAll("/", "~1")}/${method}/requestBody/content/application~1json/schema`;
      const takes = ajv.getSchema(`iota#${at}`);
      if (!takes)
        throw new Error(
          `${method} ${path} took a body the document does not describe: ${JSON.stringify(sent)}`,
        );
      if (!takes(sent))
        throw new Error(
          `${method} ${path} took a body its schema refuses: ${ajv.errorsText(takes.errors)}`,
        );
      sentBodies.add(`${method} ${path}`);
    }
    const status = String(res.status);
    const type = (res.headers.get("content-type") ?? "").split(";")[0] ?? "";
    const pointer = `/paths/${path.replaceAll("~", "~0").replaceAll("/", "~1")}/${method}/responses/${status}/content/${type.replaceAll("/", "~1")}/schema`;
    const validate = ajv.getSchema(`iota#${pointer}`);
    if (!validate)
      throw new Error(`the document has no schema for ${method} ${path} ${status} ${type}`);
    const body = type.includes("json") ? await res.json() : await res.text();
    if (!validate(body))
      throw new Error(
        `${method} ${path} ${status}: ${ajv.errorsText(validate.errors)}\n${JSON.stringify(body)}`,
      );
    checked.add(`${method} ${path}`);
    return body;
  }

  beforeAll(async () => {
    svc = await createTestService();
  });

  afterAll(() => {
    // The answers checked cover every operation that has a JSON or PEM success body.
    const expected = operations
      .filter(({ op }) => Object.keys(op.responses).some((s) => s.startsWith("2") && s !== "204"))
      .map(({ path, method }) => `${method} ${path}`)
      .filter((k) => k !== "get /metrics");
    expect([...checked].sort()).toEqual(expected.sort());
    // Every body the document describes was sent and taken.
    const bodies = operations
      .filter(({ op }) => op.requestBody !== undefined)
      .map(({ path, method }) => `${method} ${path}`);
    expect([...sentBodies].sort()).toEqual(bodies.sort());
  });

  test("groups, devices, issuing, trust, fleet status and history", async () => {
    const G = "/v1/groups/{group}";
    const D = `${G}/devices/{device}`;
    const lamps = { name: "lamps" };
    await check("/v1/groups", "post", await svc.call("POST", "/v1/groups", lamps), lamps);
    const secret = await createGroup(svc, "fans");
    await check("/v1/groups", "get", await svc.call("GET", "/v1/groups"));
    await check(G, "get", await svc.call("GET", "/v1/groups/fans"));
    await check(`${G}/secret`, "post", await svc.call("POST", "/v1/groups/lamps/secret"));
    // A group enrolling any: its view carries the pattern and limit; a device it created, enrolledAt.
    const enrolling = { enrollment: "any", namePattern: "l-*", enrollPerHour: 10 };
    await check(G, "patch", await svc.call("PATCH", "/v1/groups/lamps", enrolling), enrolling);
    const lampSecret = (
      (await (await svc.call("POST", "/v1/groups/lamps/secret")).json()) as {
        provisioningSecret: string;
      }
    ).provisioningSecret;
    await provisionDevice(svc, "lamps", "l-1", lampSecret);
    await check(D, "get", await svc.call("GET", "/v1/groups/lamps/devices/l-1"));
    await check(G, "get", await svc.call("GET", "/v1/groups/lamps"));
    await check(
      `${G}/devices`,
      "post",
      await svc.call("POST", "/v1/groups/fans/devices", { name: "f-1" }),
      { name: "f-1" },
    );
    await createDevices(svc, "fans", ["f-2", "f-3"]);
    const bulk = { names: ["f-3", "f-4", "BAD"] };
    await check(
      `${G}/devices`,
      "post",
      await svc.call("POST", "/v1/groups/fans/devices", bulk),
      bulk,
    );
    const first = await provisionDevice(svc, "fans", "f-1", secret);
    const { csr } = await deviceCsr("f-2");
    const provisioning = { group: "fans", device: "f-2", csr, secret };
    await check(
      "/v1/provision",
      "post",
      await postJson(svc, "/v1/provision", provisioning),
      provisioning,
    );
    await check(
      "/v1/provision",
      "post",
      await postJson(svc, "/v1/provision", provisioning),
      provisioning,
    );
    const next = await deviceCsr("f-1");
    const serial = new x509.X509Certificate(first.issued.certificate).serialNumber;
    const proof = await signRenewProof(
      first.keys.privateKey,
      serial,
      next.csr,
      new Date(svc.clock.now),
    );
    const renewal = { certificate: first.issued.certificate, ...proof };
    await check("/v1/renew", "post", await postJson(svc, "/v1/renew", renewal), renewal);
    await svc.store.applyReadiness([
      { tenant: "default", group: "fans", device: "f-1", online: true, at: svc.clock.now },
    ]);
    await check(`${G}/devices`, "get", await svc.call("GET", "/v1/groups/fans/devices?limit=2"));
    await check(
      `${G}/devices`,
      "get",
      await svc.call("GET", "/v1/groups/fans/devices?online=true&state=provisioned"),
    );
    await check(D, "get", await svc.call("GET", "/v1/groups/fans/devices/f-1"));
    await check(
      `${D}/history`,
      "get",
      await svc.call("GET", "/v1/groups/fans/devices/f-1/history"),
    );
    await check(
      `${D}/revoke`,
      "post",
      await svc.call("POST", "/v1/groups/fans/devices/f-2/revoke"),
    );
    await check(`${D}/reset`, "post", await svc.call("POST", "/v1/groups/fans/devices/f-2/reset"));
    const forget = { forgetKey: true };
    await check(
      `${D}/reset`,
      "post",
      await svc.call("POST", "/v1/groups/fans/devices/f-2/reset", forget),
      forget,
    );
    const status = (await check(
      "/v1/status",
      "get",
      await svc.call("GET", "/v1/status?limit=1"),
    )) as { nextCursor?: string };
    expect(status.nextCursor).toBe("fans");
    await check(
      "/v1/status",
      "get",
      await svc.call("GET", `/v1/status?cursor=${status.nextCursor}`),
    );
    await check(`${G}/status`, "get", await svc.call("GET", "/v1/groups/fans/status"));
    await check("/v1/ca", "get", await svc.app.request("/v1/ca"));
    await check("/v1/crl", "get", await svc.app.request("/v1/crl"));
    await check("/v1/server-ca", "get", await svc.app.request("/v1/server-ca"));
    await check("/v1/openapi.json", "get", await svc.app.request("/v1/openapi.json"));
    await check("/healthz", "get", await svc.app.request("/healthz"));
    await check("/readyz", "get", await svc.app.request("/readyz"));
    // Error answers follow the document too.
    await check(`${G}/devices`, "get", await svc.call("GET", "/v1/groups/fans/devices?state=lost"));
    await check(`${G}/status`, "get", await svc.call("GET", "/v1/groups/nope/status"));
    await check("/v1/openapi.json", "get", await svc.app.request("/v1/openapi.json?v=2"));
    await check("/v1/crl", "get", await svc.app.request("/v1/crl?tenant=Bad"));
  });
});
