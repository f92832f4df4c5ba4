/**
 * What the hostile review found in the HTTP layer: bodies read before auth, ambiguous bodies, echoed
 * secrets, aborted bodies logged as server errors, and overload growing latency without bound.
 */

import { describe, expect, test } from "bun:test";
import {
  createDevices,
  createGroup,
  createTestService,
  deviceCsr,
  postJson,
  readProblem,
} from "../helpers/test-service.ts";

/** A body stream of `total` bytes that counts how much of it was pulled. */
function countingBody(total: number): { stream: ReadableStream<Uint8Array>; pulled(): number } {
  let pulled = 0;
  const chunk = new TextEncoder().encode(`{"names":["${"x".repeat(16 * 1024)}`);
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) return controller.close();
      pulled += chunk.length;
      controller.enqueue(chunk);
    },
  });
  return { stream, pulled: () => pulled };
}

describe("bodies and authentication", () => {
  test("an admin route without a token answers 401 without reading a streamed body", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    const body = countingBody(64 * 1024 * 1024);
    const res = await svc.app.request("/v1/groups/g/devices", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: body.stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(401);
    expect(res.headers.get("www-authenticate")).toBe('Bearer realm="iota"');
    // Hint: a stream hands out a little ahead of reads; a body read to its limit would be megabytes.
    expect(body.pulled()).toBeLessThan(256 * 1024);
  });

  test("a body the client stops sending halfway is a 400 on the body, never a logged server error", async () => {
    const svc = await createTestService();
    let sent = false;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent) return controller.error(new Error("connection reset by peer"));
        sent = true;
        controller.enqueue(new TextEncoder().encode('{"group":"g","dev'));
      },
    });
    const res = await svc.app.request("/v1/provision", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(400);
    expect((await readProblem(res)).errors?.[0]).toEqual({
      field: "(body)",
      message: "was cut off before its end",
    });
    expect(svc.log.lines.filter((line) => line.startsWith("error"))).toEqual([]);
  });
});

describe("ambiguous and malformed bodies", () => {
  test("a field given twice is a 400 naming it, wherever it sits", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "g");
    await createDevices(svc, "g", ["a", "b"]);
    const { csr } = await deviceCsr("a");
    const twice = `{"group":"g","device":"a","device":"b","csr":${JSON.stringify(csr)},"secret":"${secret}"}`;
    const res = await svc.app.request("/v1/provision", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: twice,
    });
    expect(res.status).toBe(400);
    expect((await readProblem(res)).errors?.[0]?.field).toBe("device");
    const nested = await svc.call(
      "POST",
      "/v1/groups/g/devices/a/reset",
      '{"forgetKey":true,"forgetKey":false}',
    );
    expect(nested.status).toBe(400);
    expect((await readProblem(nested)).errors?.[0]?.field).toBe("forgetKey");
  });

  test("an unknown field is a 400 naming it, not silently dropped", async () => {
    const svc = await createTestService();
    const res = await svc.call("POST", "/v1/groups", { name: "g", validty: "1h" });
    expect(res.status).toBe(400);
    expect((await readProblem(res)).errors).toEqual([
      { field: "validty", message: "is not a known field (check the spelling)" },
    ]);
    expect((await svc.call("GET", "/v1/groups/g")).status).toBe(404);
  });

  test("a body that is not JSON is refused without quoting it back", async () => {
    const svc = await createTestService();
    const secret = "s3cr3t-that-must-not-come-back-0123456789";
    const res = await svc.app.request("/v1/provision", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"group":"g","secret":${secret}}`,
    });
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).not.toContain(secret);
    expect(text).not.toContain("s3cr3t");
  });
});

describe("a JSON body that is not an object", () => {
  /** Every call that reads a JSON body, reset's optional one included. */
  const BODY_CALLS: [string, string][] = [
    ["POST", "/v1/groups"],
    ["PATCH", "/v1/groups/g"],
    ["POST", "/v1/groups/g/devices"],
    ["POST", "/v1/groups/g/devices/d/reset"],
    ["POST", "/v1/groups/g/devices/d/revoke"],
    ["POST", "/v1/provision"],
    ["POST", "/v1/renew"],
  ];

  test.each(BODY_CALLS)(
    "%s %s answers an array, null, a string or a number as not a JSON object",
    async (method, path) => {
      const svc = await createTestService();
      await createGroup(svc, "g");
      await createDevices(svc, "g", ["d"]);
      for (const [text, kind] of [
        ["[]", "an array"],
        ['[{"name":"x"}]', "an array"],
        ["null", "null"],
        ['"s3cr3t"', "a string"],
        ["42", "a number"],
        ["true", "a boolean"],
      ]) {
        const res = await svc.call(method, path, text);
        expect({ text, status: res.status }).toEqual({ text, status: 400 });
        const problem = await readProblem(res);
        expect({ text, errors: problem.errors }).toEqual({
          text,
          errors: [{ field: "(body)", message: `must be a JSON object, got ${kind}` }],
        });
        // Hint: the kind of value is named, never the value, which may be a secret.
        expect(problem.detail).not.toContain("s3cr3t");
      }
      expect(
        ((await (await svc.call("GET", "/v1/groups/g/devices/d")).json()) as { state: string })
          .state,
      ).toBe("created");
    },
  );
});

describe("percent-encoding in the path", () => {
  test.each([
    ["/v1/groups/%ZZ", "group"],
    ["/v1/groups/g%/devices", "group"],
    ["/v1/groups/%FF/devices/d", "group"],
    ["/v1/groups/g/devices/%ZZ", "device"],
    ["/v1/groups/g/devices/%E2%82/history", "device"],
    ["/v1/groups/g/devices/d%zz", "device"],
  ])("%s is a 400 saying the %s is not valid percent-encoding", async (path, param) => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    await createDevices(svc, "g", ["d"]);
    const res = await svc.call("GET", path);
    expect(res.status).toBe(400);
    expect((await readProblem(res)).errors).toEqual([
      { field: param, message: "is not valid percent-encoding" },
    ]);
  });

  test("a well-formed escape is decoded and then checked as a name", async () => {
    const svc = await createTestService();
    await createGroup(svc, "g");
    const percent = await svc.call("GET", "/v1/groups/g/devices/%25");
    expect((await readProblem(percent)).errors?.[0]).toMatchObject({
      field: "device",
      message: expect.stringContaining('contains "%"'),
    });
    const upper = await svc.call("GET", "/v1/groups/g/devices/%41");
    expect((await readProblem(upper)).errors?.[0]).toMatchObject({
      field: "device",
      message: expect.stringContaining("uppercase"),
    });
    await createDevices(svc, "g", ["a"]);
    expect((await svc.call("GET", "/v1/groups/g/devices/%61")).status).toBe(200);
  });
});

describe("overload", () => {
  test("beyond the issuing queue the service sheds requests at once with 503 and Retry-After", async () => {
    const svc = await createTestService({
      issueQueue: { concurrency: 1, depth: 1, retryAfter: 2 },
    });
    const secret = await createGroup(svc, "g");
    const names = Array.from({ length: 8 }, (_, i) => `d${i}`);
    await createDevices(svc, "g", names);
    const bodies = await Promise.all(
      names.map(async (device) => ({
        group: "g",
        device,
        csr: (await deviceCsr(device)).csr,
        secret,
      })),
    );
    const answers = await Promise.all(bodies.map((body) => postJson(svc, "/v1/provision", body)));
    const statuses = answers.map((a) => a.status);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(2);
    const shed = answers.filter((a) => a.status === 503);
    expect(shed.length).toBeGreaterThanOrEqual(1);
    expect(statuses.every((s) => s === 201 || s === 503)).toBe(true);
    for (const answer of shed) {
      expect(answer.headers.get("retry-after")).toBe("2");
      expect((await readProblem(answer)).title).toBe("Service Unavailable");
    }
    // The shed devices get their certificates once they come back.
    for (const [i, answer] of answers.entries())
      if (answer.status === 503)
        expect((await postJson(svc, "/v1/provision", bodies[i])).status).toBe(201);
  });
});
