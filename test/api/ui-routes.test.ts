/** /ui/ in-process (no socket): the embedded files, their policy headers, and what other methods and paths get. */

import { expect, test } from "bun:test";
import { UI_HEADERS } from "../../src/iota-server/ui/ui-routes.ts";
import { createTestService } from "../helpers/test-service.ts";

const service = await createTestService();

test("every answer under /ui/ carries the policy headers, a 404 included", async () => {
  for (const [path, status] of [
    ["/ui/", 200],
    ["/ui/app.js", 200],
    ["/ui/app.css", 200],
    ["/ui/icon.svg", 200],
    ["/ui/admin-token", 404],
  ] as const) {
    const res = await service.app.request(path);
    expect(res.status).toBe(status);
    for (const [name, value] of Object.entries(UI_HEADERS))
      expect(res.headers.get(name)).toBe(value);
  }
});

test("the page needs no token, holds no data, and /ui becomes /ui/ so its relative links resolve", async () => {
  const page = await service.app.request("/ui/");
  const html = await page.text();
  expect(html).toContain('<main id="main"');
  expect(html).not.toContain(service.adminToken);
  const bare = await service.app.request("/ui");
  expect(bare.status).toBe(308);
  expect(bare.headers.get("location")).toBe("/ui/");
});

test("the files answer HEAD and conditional requests; other methods are 405", async () => {
  const first = await service.app.request("/ui/app.js");
  const etag = first.headers.get("etag");
  expect(etag).toBeTruthy();
  const again = await service.app.request("/ui/app.js", { headers: { "if-none-match": etag! } });
  expect(again.status).toBe(304);
  expect((await service.app.request("/ui/", { method: "HEAD" })).status).toBe(200);
  const post = await service.app.request("/ui/", { method: "POST" });
  expect(post.status).toBe(405);
  expect(post.headers.get("allow")).toBe("GET, HEAD");
});

test("the script is one bundled module: no import, and none of its sources' TypeScript", async () => {
  const script = await (await service.app.request("/ui/app.js")).text();
  expect(script.length).toBeGreaterThan(5_000);
  expect(script).not.toMatch(/\bimport\s*[{("'*]|\binterface\s+\w+\s*{|: HTMLElement\b/);
  expect(script).toContain("/v1/groups");
});
