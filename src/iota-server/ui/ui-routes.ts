/** The dashboard at /ui/: its embedded page, script, style and icon, served under a strict policy. */

import { Hono } from "hono";
import { etag } from "hono/etag";
import type { AppEnv } from "../http/env.ts";
import { problemAnswer } from "../http/problem-response.ts";
import type { UiAsset } from "./assets.ts";

/**
 * The headers of every answer under /ui/. The CSP admits only this origin's own files: no inline script or
 * style, no other origin (the dashboard works offline), no frames, and no native form submission, so a
 * token typed into the sign-in form can never travel in a URL even if the script failed to load.
 */
export const UI_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "font-src 'none'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
    "require-trusted-types-for 'script'",
  ].join("; "),
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

// Hint: loaded on the first request, so a server nobody opens the dashboard on never builds its assets.
let assets: Promise<ReadonlyMap<string, UiAsset>> | undefined;
function uiAssets(): Promise<ReadonlyMap<string, UiAsset>> {
  assets ??= import("./assets.ts").then((m) => m.UI_ASSETS);
  return assets;
}

/** The /ui routes, to mount at the root of the app. */
export function uiRoutes(): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.use("/ui/*", async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(UI_HEADERS)) c.res.headers.set(name, value);
  });
  app.use("/ui/*", etag());
  // Hint: the page's links are relative, so /ui must become /ui/ before the page loads.
  app.get("/ui", (c) => c.redirect("/ui/", 308));
  const serve = async (name: string, path: string) => {
    const asset = (await uiAssets()).get(name);
    if (!asset) return problemAnswer(404, `The dashboard has no file ${path}`);
    return new Response(asset.body, {
      headers: { "content-type": asset.type, "cache-control": "no-cache" },
    });
  };
  app.get("/ui/", (c) => serve("", c.req.path));
  app.get("/ui/:file", (c) => serve(c.req.param("file"), c.req.path));
  return app;
}
