/** The dashboard's files, embedded in the program when it is transpiled or compiled (see bundle-macro.ts). */

import { bundleBrowserScript, embedText } from "./bundle-macro.ts" with { type: "macro" };
import { pageHtml } from "./page.ts";

/** One embedded file and its media type. */
export interface UiAsset {
  body: string;
  type: string;
}

/** The files under /ui/, by the name after `/ui/` ("" is the page itself). */
export const UI_ASSETS: ReadonlyMap<string, UiAsset> = new Map([
  ["", { body: pageHtml(), type: "text/html; charset=utf-8" }],
  [
    "app.js",
    { body: bundleBrowserScript("client/main.ts"), type: "text/javascript; charset=utf-8" },
  ],
  [
    "app.css",
    {
      body: [
        embedText("client/styles/base.css"),
        embedText("client/styles/data.css"),
        embedText("client/styles/charts.css"),
      ].join("\n"),
      type: "text/css; charset=utf-8",
    },
  ],
  ["icon.svg", { body: embedText("client/icon.svg"), type: "image/svg+xml" }],
]);
