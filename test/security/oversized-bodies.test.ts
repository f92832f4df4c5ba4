/**
 * Bodies over every route's limit, sent to a real server over HTTPS: each is refused by the route as
 * problem+json naming its limit and logged, a caller without a token gets a 401 before any body is read,
 * and nothing is created.
 */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

let server: ServerProcess;

beforeAll(async () => {
  server = await startServerProcess({ tls: true });
  await server.admin("POST", "/v1/groups", { name: "g" }, 201);
});

afterAll(async () => {
  await server?.stop();
});

/** A JSON body of `bytes` bytes (ASCII): one object whose padding fills it. */
function body(bytes: number): string {
  return `{"name":"big","padding":"${"x".repeat(bytes - 30)}"}`;
}

async function post(path: string, bytes: number, token?: string) {
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  const res = await server.fetch(path, { method: "POST", headers, body: body(bytes) });
  const type = res.headers.get("content-type") ?? "";
  const text = await res.text();
  return { status: res.status, type, text };
}

async function logged(line: RegExp): Promise<boolean> {
  const deadline = Date.now() + 5000;
  while (!line.test(server.output()) && Date.now() < deadline) await Bun.sleep(20);
  return line.test(server.output());
}

describe("a body over the largest route limit (8 MiB, bulk device creation)", () => {
  const over = 9 * 1024 * 1024;

  test("to the bulk route with a token: 413 problem+json naming the limit, logged", async () => {
    const res = await post("/v1/groups/g/devices", over, server.token());
    expect(res.status).toBe(413);
    expect(res.type).toContain("application/problem+json");
    expect(JSON.parse(res.text).detail).toContain(String(8 * 1024 * 1024));
    expect(await logged(/POST \/v1\/groups\/g\/devices 413/)).toBe(true);
    const listed = await server.adminCall("GET", "/v1/groups/g/devices");
    expect(JSON.stringify(listed.json)).not.toContain('"big"');
  });

  test("to the provisioning route: 413 problem+json naming its own limit", async () => {
    const res = await post("/v1/provision", over);
    expect(res.status).toBe(413);
    expect(res.type).toContain("application/problem+json");
    expect(JSON.parse(res.text).detail).toContain(String(20 * 1024));
    expect(await logged(/POST \/v1\/provision 413/)).toBe(true);
  });

  test("without a token: 401 problem+json, the body never read", async () => {
    const res = await post("/v1/groups", over);
    expect(res.status).toBe(401);
    expect(res.type).toContain("application/problem+json");
    expect((await server.adminCall("GET", "/v1/groups/big")).status).toBe(404);
  });

  test("the service answers the next request as before", async () => {
    expect((await server.adminCall("GET", "/v1/groups/g")).status).toBe(200);
  });
});
