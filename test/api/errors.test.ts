/** The HTTP layer's error answers: admin auth, body parsing and limits, unknown routes, OpenAPI, and logs free of secrets. */

import { describe, expect, test } from "bun:test";
import {
  createGroup,
  createTestService,
  deviceCsr,
  postJson,
  provisionDevice,
  readProblem,
} from "../helpers/test-service.ts";
import { deviceToken } from "../../src/core/token.ts";

/** Every admin route of the API table, with a body where it takes one. */
// Hint: every row has three entries; bun passes a done callback in place of a missing one.
const ADMIN_ROUTES: [string, string, unknown][] = [
  ["POST", "/v1/groups", { name: "g" }],
  ["GET", "/v1/groups", undefined],
  ["GET", "/v1/groups/g", undefined],
  ["DELETE", "/v1/groups/g", undefined],
  ["POST", "/v1/groups/g/secret", undefined],
  ["POST", "/v1/groups/g/devices", { name: "d" }],
  ["GET", "/v1/groups/g/devices", undefined],
  ["GET", "/v1/groups/g/devices/d", undefined],
  ["DELETE", "/v1/groups/g/devices/d", undefined],
  ["POST", "/v1/groups/g/devices/d/revoke", undefined],
  ["POST", "/v1/groups/g/devices/d/reset", undefined],
];

describe("admin authentication", () => {
  test.each(ADMIN_ROUTES)(
    "%s %s without a token is 401 and changes nothing",
    async (method, path, body) => {
      const svc = await createTestService();
      await createGroup(svc, "g");
      await svc.call("POST", "/v1/groups/g/devices", { name: "d" });
      const init: RequestInit = { method, headers: { "content-type": "application/json" } };
      if (body !== undefined) init.body = JSON.stringify(body);
      const res = await svc.app.request(path, init);
      expect(res.status).toBe(401);
      expect((await readProblem(res)).detail).toContain("admin token");
      // The group and its device are untouched.
      expect((await svc.call("GET", "/v1/groups/g/devices/d")).status).toBe(200);
    },
  );

  test.each(ADMIN_ROUTES)("%s %s with a wrong token is 401", async (method, path, body) => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    const wrong = `iota_${"A".repeat(43)}`;
    for (const authorization of [
      `Bearer ${wrong}`,
      `Basic ${svc.adminToken}`,
      svc.adminToken,
      "Bearer",
    ]) {
      const res = await svc.call(method, path, body, { authorization });
      expect(res.status).toBe(401);
      const problem = await readProblem(res);
      expect(problem.detail).not.toContain(svc.adminToken);
      expect(problem.detail).not.toContain(wrong);
    }
  });
});

describe("request bodies", () => {
  const BODY_ROUTES = ["/v1/groups", "/v1/groups/g/devices", "/v1/provision", "/v1/renew"];

  test.each(BODY_ROUTES)("POST %s with malformed JSON is 400 on the body", async (path) => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    const res = await svc.call("POST", path, '{"name": "g"');
    expect(res.status).toBe(400);
    const problem = await readProblem(res);
    expect(problem.detail).toContain("not valid JSON");
    expect(problem.errors).toEqual([{ field: "(body)", message: "is not valid JSON" }]);
  });

  test.each(BODY_ROUTES)("POST %s with a non-JSON content type is 415", async (path) => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
      const res = await svc.call("POST", path, '{"name":"x"}', { "content-type": type });
      expect(res.status).toBe(415);
      expect((await readProblem(res)).detail).toContain("application/json");
    }
    const none = await svc.app.request(path, {
      method: "POST",
      headers: { authorization: `Bearer ${svc.adminToken}` },
      body: '{"name":"x"}',
    });
    expect(none.status).toBe(415);
  });

  test("application/problem+json style types (+json) and a charset are accepted as JSON", async () => {
    const svc = await createTestService();
    const res = await svc.call(
      "POST",
      "/v1/groups",
      { name: "g" },
      { "content-type": "application/json; charset=utf-8" },
    );
    expect(res.status).toBe(201);
  });

  test.each(["/v1/groups", "/v1/provision", "/v1/renew"])(
    "POST %s with a body over the limit is 413",
    async (path) => {
      const svc = await createTestService({ maxAdminBody: 4096, maxIssueBody: 4096 });
      const res = await svc.call("POST", path, { name: "g", padding: "x".repeat(5000) });
      expect(res.status).toBe(413);
      expect((await readProblem(res)).detail).toContain("4096");
      expect((await svc.call("GET", "/v1/groups/g")).status).toBe(404);
    },
  );

  test("bulk device creation has its own, larger body limit, and no more", async () => {
    const svc = await createTestService({ maxAdminBody: 4096, maxBulkBody: 4096 * 32 });
    await createGroup(svc, "g");
    const names = Array.from({ length: 15_000 }, (_, i) => `device-${i}`);
    expect(JSON.stringify({ names }).length).toBeGreaterThan(4096 * 32);
    const tooBig = await svc.call("POST", "/v1/groups/g/devices", { names });
    expect(tooBig.status).toBe(413);
    const fits = await svc.call("POST", "/v1/groups/g/devices", { names: names.slice(0, 7000) });
    expect(fits.status).toBe(200);
  });
});

describe("unknown routes", () => {
  test.each([
    ["GET", "/v2/groups"],
    ["GET", "/nope"],
    ["GET", "/v1/groups/g/devices/d/nope"],
    // Hint: a trailing slash names no route either; it was a 405 that offered the very method used.
    ["GET", "/v1/groups/g/devices/d/"],
    ["GET", "/v1/groups/"],
    ["GET", "/v1/ca/"],
  ] as [string, string][])("%s %s is a 404 problem", async (method, path) => {
    const svc = await createTestService();
    const res = await svc.call(method, path);
    expect(res.status).toBe(404);
    expect((await readProblem(res)).status).toBe(404);
  });

  test.each([
    ["PUT", "/v1/groups", "GET, HEAD, POST"],
    ["POST", "/v1/ca", "GET, HEAD"],
    ["GET", "/v1/provision", "POST"],
    ["PATCH", "/v1/groups/g/devices/d", "DELETE, GET, HEAD"],
    ["DELETE", "/v1/groups/g/devices/d/reset", "POST"],
  ] as [string, string, string][])(
    "%s %s is a 405 problem with Allow: %s",
    async (method, path, allow) => {
      const svc = await createTestService();
      const res = await svc.call(method, path);
      expect(res.status).toBe(405);
      expect(res.headers.get("allow")).toBe(allow);
      expect((await readProblem(res)).status).toBe(405);
    },
  );
});

describe("GET /v1/openapi.json", () => {
  test("lists every path and method of the API table, and needs no token", async () => {
    const svc = await createTestService();
    const res = await svc.app.request("/v1/openapi.json");
    expect(res.status).toBe(200);
    const doc = (await res.json()) as {
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    };
    expect(doc.openapi).toStartWith("3.");
    const expected: [string, string[]][] = [
      ["/v1/groups", ["post", "get"]],
      ["/v1/groups/{group}", ["get", "delete"]],
      ["/v1/groups/{group}/secret", ["post"]],
      ["/v1/groups/{group}/devices", ["post", "get"]],
      ["/v1/groups/{group}/devices/{device}", ["get", "delete"]],
      ["/v1/groups/{group}/devices/{device}/revoke", ["post"]],
      ["/v1/groups/{group}/devices/{device}/reset", ["post"]],
      ["/v1/provision", ["post"]],
      ["/v1/renew", ["post"]],
      ["/v1/ca", ["get"]],
      ["/v1/crl", ["get"]],
    ];
    for (const [path, methods] of expected) {
      expect(Object.keys(doc.paths)).toContain(path);
      for (const method of methods) expect(doc.paths[path]?.[method]).toBeDefined();
    }
  });
});

describe("logs", () => {
  test("no log line holds a provisioning secret, device token, admin token or key", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "g");
    await svc.call("POST", "/v1/groups/g/devices", { names: ["a", "b", "c"] });
    const secrets = [secret, svc.adminToken, deviceToken(secret, "g", "b")];
    const a = await provisionDevice(svc, "g", "a", secret);
    const b = await deviceCsr("b");
    expect(
      (
        await postJson(svc, "/v1/provision", {
          group: "g",
          device: "b",
          csr: b.csr,
          token: secrets[2],
        })
      ).status,
    ).toBe(201);
    // Failures too: wrong credentials echo nothing.
    expect(
      (
        await postJson(svc, "/v1/provision", {
          group: "g",
          device: "c",
          csr: (await deviceCsr("c")).csr,
          secret: `${secret}x`,
        })
      ).status,
    ).toBe(401);
    const rotated = (await (await svc.call("POST", "/v1/groups/g/secret")).json()) as {
      provisioningSecret: string;
    };
    secrets.push(rotated.provisioningSecret, `${secret}x`);
    await svc.call("GET", "/v1/groups", undefined, { authorization: `Bearer ${svc.adminToken}x` });
    secrets.push(`${svc.adminToken}x`);

    expect(svc.log.lines.length).toBeGreaterThan(5);
    const all = svc.log.lines.join("\n");
    for (const s of secrets) expect(all).not.toContain(s);
    expect(all).not.toContain("PRIVATE KEY");
    expect(all).not.toContain(a.csr.split("\n")[1] ?? "-");
  });
});

test("every API answer tells browsers not to sniff its type: JSON, problems, provisioning, the CA", async () => {
  const svc = await createTestService();
  const secret = await createGroup(svc, "g");
  await svc.call("POST", "/v1/groups/g/devices", { name: "d" });
  const answers = [
    await svc.call("GET", "/v1/groups"),
    await svc.call("GET", "/v1/groups/nope"),
    await svc.call("PUT", "/v1/groups"),
    await svc.app.request("/v1/groups"),
    await svc.app.request("/v1/ca"),
    await postJson(svc, "/v1/provision", {
      group: "g",
      device: "d",
      csr: (await deviceCsr("d")).csr,
      secret,
    }),
    await postJson(svc, "/v1/provision", { group: "g" }),
  ];
  expect(answers.map((res) => res.status)).toEqual([200, 404, 405, 401, 200, 201, 400]);
  for (const res of answers) expect(res.headers.get("x-content-type-options")).toBe("nosniff");
});

test("GET /readyz: 200 while the database answers; 503 problem+json with Retry-After once it does not, while /healthz stays 200", async () => {
  const svc = await createTestService();
  const ready = await svc.app.request("/readyz");
  expect(ready.status).toBe(200);
  expect(await ready.json()).toEqual({ status: "ready" });
  await svc.store.close();
  const gone = await svc.app.request("/readyz");
  expect(gone.status).toBe(503);
  expect(gone.headers.get("content-type")).toBe("application/problem+json");
  expect(gone.headers.get("retry-after")).toBe("5");
  expect(((await gone.json()) as { detail: string }).detail).toBe(
    "The database did not answer within 2 s; this replica cannot serve requests that need it",
  );
  expect((await svc.app.request("/healthz")).status).toBe(200);
});
