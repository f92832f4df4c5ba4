/**
 * Debian's Chromium (`/usr/bin/chromium`, never a downloaded browser) driven through playwright-core, trusting
 * exactly one iota-server's key, and recording every request, script error and console error it sees.
 */

import { X509Certificate, createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:tls";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type BrowserContext, type Page } from "playwright-core";
import { ROOT } from "./server-process.ts";

/** Where the browser tests write their screenshots (gitignored). */
export const ARTIFACTS = join(ROOT, "test-artifacts/ui");

const CHROMIUM = "/usr/bin/chromium";

/** One request the browser made. */
export interface SeenRequest {
  method: string;
  url: string;
  authorization: string | undefined;
}

/** A running browser and what it saw. */
export interface TestBrowser {
  context: BrowserContext;
  /** Every request of every page, in order. */
  requests: SeenRequest[];
  /** Uncaught exceptions, console errors and failed requests, as text. */
  problems: string[];
  /** A fresh tab (its own sessionStorage) at `width` x `height`. */
  newPage(width?: number, height?: number): Promise<Page>;
  /** A screenshot of `page` into test-artifacts/ui/<name>.png; returns its path. */
  screenshot(page: Page, name: string): Promise<string>;
  close(): Promise<void>;
}

/**
 * The base64 SHA-256 of the SubjectPublicKeyInfo of the certificate the server at `url` presents, read over
 * a TLS connection that verifies it against `serverCaPem`: only a key the server CA vouched for is pinned.
 */
export async function serverKeyPin(url: string, serverCaPem: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const der = await new Promise<Buffer>((done, fail) => {
    const socket = connect({ host: hostname, port: Number(port), ca: serverCaPem }, () => {
      const raw = socket.getPeerCertificate().raw;
      socket.end();
      done(raw);
    });
    socket.once("error", fail);
  });
  const spki = new X509Certificate(der).publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(spki).digest("base64");
}

/**
 * Starts Chromium for the server at `url`. Hint: Chromium on Linux takes its trust anchors from an NSS
 * database, which would need certutil and a home folder per test; instead the server's own key (checked
 * against its server CA first) is the one key whose certificate errors this profile overlooks. Any other
 * certificate still fails, so the test still sees a broken or substituted certificate.
 */
export async function startBrowser(url: string, serverCaPem: string): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM))
    throw new Error(
      `${CHROMIUM} is missing: apt-get install chromium (test/setup/apt-packages.txt)`,
    );
  const profile = mkdtempSync(join(tmpdir(), "iota-chromium-"));
  const pin = await serverKeyPin(url, serverCaPem);
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--ignore-certificate-errors-spki-list=${pin}`,
    ],
  });
  const requests: SeenRequest[] = [];
  const problems: string[] = [];
  context.on("request", (r) =>
    requests.push({ method: r.method(), url: r.url(), authorization: r.headers().authorization }),
  );
  context.on("requestfailed", (r) =>
    problems.push(`request failed: ${r.url()} ${r.failure()?.errorText}`),
  );
  context.on("weberror", (e) => problems.push(`page error: ${e.error().message}`));
  context.on("console", (m) => {
    if (m.type() === "error") problems.push(`console error: ${m.text()} (${m.location().url})`);
  });
  mkdirSync(ARTIFACTS, { recursive: true });
  return {
    context,
    requests,
    problems,
    async newPage(width = 1280, height = 800) {
      const page = await context.newPage();
      await page.setViewportSize({ width, height });
      return page;
    },
    async screenshot(page, name) {
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
