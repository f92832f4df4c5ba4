/**
 * GET /metrics from a real iota-server process: with the admin token on the API, and without one on the
 * `--metrics-listen` listener; `promtool check metrics` (Debian's prometheus package) finds nothing to report.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { createCsrPem, generateDeviceKey } from "../src/core/csr.ts";
import { startServerProcess, type ServerProcess } from "./helpers/server-process.ts";

let server: ServerProcess;
let metricsUrl = "";

function promtool(): string {
  const found = Bun.which("promtool");
  if (!found)
    throw new Error(
      "promtool is not installed; install Debian's prometheus package to run this test",
    );
  return found;
}

/** `promtool check metrics` on `text`: its exit status and everything it printed. */
function check(text: string): { code: number; out: string } {
  const run = Bun.spawnSync([promtool(), "check", "metrics"], {
    stdin: new TextEncoder().encode(text),
    stdout: "pipe",
    stderr: "pipe",
  });
  return { code: run.exitCode ?? -1, out: `${run.stdout}${run.stderr}` };
}

beforeAll(async () => {
  promtool();
  server = await startServerProcess({
    tls: true,
    args: ["--metrics-listen", "127.0.0.1:0", "--metrics-groups", "1"],
  });
  metricsUrl = /metrics: +(http:\/\/\S+\/metrics)/.exec(server.output())?.[1] ?? "";
  const lamps = await server.admin("POST", "/v1/groups", { name: "lamps" }, 201);
  await server.admin("POST", "/v1/groups", { name: "fans" }, 201);
  await server.admin("POST", "/v1/groups/lamps/devices", { names: ["l-1", "l-2"] }, 200);
  await server.admin("POST", "/v1/groups/fans/devices", { names: ["f-1"] }, 200);
  const keys = await generateDeviceKey();
  const res = await server.fetch("/v1/provision", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      group: "lamps",
      device: "l-1",
      csr: await createCsrPem(keys, "l-1"),
      secret: lamps.provisioningSecret,
    }),
  });
  expect(res.status).toBe(201);
  await server.adminCall("GET", "/v1/groups/nope");
}, 60_000);

afterAll(async () => {
  await server?.stop();
});

test("the API's /metrics needs the admin token and is clean under promtool check metrics", async () => {
  expect((await server.fetch("/metrics")).status).toBe(401);
  const res = await server.fetch("/metrics", {
    headers: { authorization: `Bearer ${server.token()}` },
  });
  expect(res.status).toBe(200);
  const text = await res.text();
  expect(text).toContain('iota_certificates_issued_total{kind="provision"} 1\n');
  expect(text).toContain('iota_devices{group="lamps",state="provisioned"} 1\n');
  expect(text).toContain('iota_devices{group="_other",state="created"} 1\n');
  expect(text).toContain(
    'iota_request_failures_total{route="/v1/groups/{group}",reason="not-found"} 1\n',
  );
  expect(check(text)).toEqual({ code: 0, out: "" });
});

test("--metrics-listen serves the same without a token, /metrics only", async () => {
  expect(metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
  const res = await fetch(metricsUrl);
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
  const text = await res.text();
  expect(text).toContain('iota_devices{group="lamps",state="created"} 1\n');
  expect(text).toContain("iota_groups 2\n");
  expect(check(text)).toEqual({ code: 0, out: "" });
  expect((await fetch(metricsUrl.replace("/metrics", "/v1/groups"))).status).toBe(404);
  expect((await fetch(metricsUrl, { method: "POST" })).status).toBe(405);
});

test("promtool does report a malformed exposition (the check can fail)", () => {
  const bad = check('# TYPE iota_x counter\niota_x{a="1"} 1\n');
  expect(bad.code).not.toBe(0);
});
