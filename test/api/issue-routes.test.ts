/** The issuing routes as Bun.serve calls them answer and log exactly as the hono app does, and the JSON answer is JSON.stringify's. */

import { describe, expect, test } from "bun:test";
import {
  createGroup,
  createTestService,
  deviceCsr,
  type TestService,
} from "../helpers/test-service.ts";
import { IssuedJson } from "../../src/iota-server/http/issued-json.ts";

type Send = (
  svc: TestService,
  path: "/v1/provision" | "/v1/renew",
  init: RequestInit,
) => Promise<Response>;

const viaApp: Send = async (svc, path, init) => await svc.app.request(path, init);
const viaRoute: Send = (svc, path, init) =>
  svc.routes[path].POST(new Request(`http://localhost${path}`, init));

/** One scenario of good and bad requests; every answer and log line, with times and serials blanked. */
async function scenario(send: Send): Promise<string[]> {
  const svc = await createTestService({ issueRate: { rate: 1, burst: 6 } });
  const secret = await createGroup(svc, "g");
  await svc.call("POST", "/v1/groups/g/devices", { names: ["d1", "d2"] });
  svc.log.lines.length = 0;
  const { csr } = await deviceCsr("d1");
  const json = { "content-type": "application/json" };
  const chunked = new ReadableStream({
    start: (c) => {
      c.enqueue(new TextEncoder().encode("x".repeat(70_000)));
      c.close();
    },
  });
  const inits: RequestInit[] = [
    {
      method: "POST",
      headers: json,
      body: JSON.stringify({ group: "g", device: "d1", csr, secret }),
    },
    {
      method: "POST",
      headers: json,
      body: JSON.stringify({ group: "g", device: "d1", csr, secret }),
    },
    { method: "POST", headers: { "content-type": "text/plain" }, body: "{}" },
    { method: "POST", headers: json, body: "{not json" },
    {
      method: "POST",
      headers: json,
      body: JSON.stringify({ group: "g", device: "d2", csr, secret: "wrong" }),
    },
    { method: "POST", headers: json, body: "x".repeat(70_000) },
    { method: "POST", headers: json, body: chunked, duplex: "half" } as RequestInit,
    {
      method: "POST",
      headers: json,
      body: JSON.stringify({ group: "nope", device: "d2", csr, token: "t" }),
    },
    { method: "POST", headers: json },
  ];
  const out: string[] = [];
  for (const init of inits) {
    const res = await send(svc, "/v1/provision", init);
    out.push(
      `${res.status} ${res.headers.get("content-type")} ${res.headers.get("retry-after")} ${(await res.text()).replace(/"(serial|notBefore|notAfter|renewAt)":"[^"]*"/g, "").replace(/-----BEGIN CERTIFICATE-----[^-]*-----END CERTIFICATE-----/g, "PEM")}`,
    );
  }
  const renew = await send(svc, "/v1/renew", {
    method: "POST",
    headers: json,
    body: JSON.stringify({ certificate: "x", csr, timestamp: "t", signature: "s" }),
  });
  out.push(`${renew.status} ${await renew.text()}`);
  return [...out, ...svc.log.lines.map((l) => l.replace(/ [\d.]+ms$/, ""))];
}

describe("issuing routes", () => {
  test("Bun.serve's direct routes answer, limit, throttle and log like the hono app", async () => {
    const [app, route] = [await scenario(viaApp), await scenario(viaRoute)];
    expect(route).toEqual(app);
    expect(app.filter((l) => l.startsWith("info POST /v1/provision"))).toHaveLength(9);
    expect(app.slice(0, 10).map((l) => l.slice(0, 3))).toEqual([
      "201",
      "200",
      "415",
      "400",
      "401",
      "413",
      "413",
      "401",
      "429",
      "429",
    ]);
  });

  test("the answer is the bytes JSON.stringify writes", async () => {
    const svc = await createTestService();
    const secret = await createGroup(svc, "g");
    await svc.call("POST", "/v1/groups/g/devices", { name: "d" });
    const { csr } = await deviceCsr("d");
    const text = await (
      await viaRoute(svc, "/v1/provision", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ group: "g", device: "d", csr, secret }),
      })
    ).text();
    expect(text).toBe(JSON.stringify(JSON.parse(text)));
    const writer = new IssuedJson();
    const odd = {
      certificate: 'a"\\\u2028\u0001',
      chain: 'a"\\\u2028\u0001ca\n',
      ca: "ca\n",
      serial: "1",
      notBefore: "n",
      notAfter: "a",
      renewAt: "r",
    };
    expect(writer.write(odd)).toBe(JSON.stringify(odd));
    expect(writer.write({ ...odd, chain: "other" })).toBe(
      JSON.stringify({ ...odd, chain: "other" }),
    );
  });
});
