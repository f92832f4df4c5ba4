/**
 * The dashboard at /ui/ in Debian's Chromium, served by the compiled iota-server, with devices run by the
 * compiled iotad: sign-in and where the token lives, the groups, a 100,000-device group paged by the server,
 * a device's certificate, revoke and reset with confirmation, keyboard and phone use, the page's policy,
 * and that nothing leaves the origin. Everything here holds with or without the fleet API (where a page
 * depends on it, the test asserts what the page shows for the server it runs against).
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { figure, rowOf, signIn, startFleet, type Fleet } from "./dashboard-fixture.ts";

const GROUP = "room2-lights";
const BIG = "factory-batch";
const BIG_SIZE = 100_000;
/** `2026-11-30 12:00 UTC`, as the dashboard writes times. */
const utc = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

/** A browser test drives real processes: a generous limit, far above what it takes (1-2 s). */
const UI_TEST_MS = 60_000;

let fleet: Fleet;
/** Whether this server has the fleet API (GET /v1/status); without it the pages say so. */
let fleetApi = false;

beforeAll(async () => {
  fleet = await startFleet();
  const secret = await fleet.addGroup(GROUP, "1h");
  await Promise.all([
    fleet.runDevice(GROUP, "lamp-001", secret),
    fleet.runDevice(GROUP, "lamp-002", secret),
  ]);
  const lamps = Array.from({ length: 118 }, (_, i) => `lamp-${String(i + 3).padStart(3, "0")}`);
  await fleet.server.admin("POST", `/v1/groups/${GROUP}/devices`, { names: lamps }, 200);
  await fleet.addGroup(BIG, "30d");
  const names = Array.from({ length: BIG_SIZE }, (_, i) => `dev-${String(i + 1).padStart(6, "0")}`);
  const bulk = await fleet.server.admin("POST", `/v1/groups/${BIG}/devices`, { names }, 200);
  expect((bulk.created as string[]).length).toBe(BIG_SIZE);
  fleetApi = (await fleet.server.adminCall("GET", "/v1/status")).status === 200;
}, 240_000);

afterAll(async () => {
  await fleet?.stop();
});

/** The device as the API answers it. */
async function apiDevice(name: string): Promise<Record<string, string | null>> {
  return (await fleet.server.admin(
    "GET",
    `/v1/groups/${GROUP}/devices/${name}`,
    undefined,
    200,
  )) as Record<string, string | null>;
}

async function openDevice(page: Page, name: string): Promise<void> {
  await page.goto(`${fleet.server.url}/ui/#/groups/${GROUP}/devices/${name}`);
  await page.getByRole("heading", { level: 1, name }).waitFor();
}

test(
  "the compiled iota-server serves /ui/ from its own executable, under a strict policy",
  async () => {
    const csp = [
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
    ].join("; ");
    const types: Record<string, string> = {
      "/ui/": "text/html; charset=utf-8",
      "/ui/app.js": "text/javascript; charset=utf-8",
      "/ui/app.css": "text/css; charset=utf-8",
      "/ui/icon.svg": "image/svg+xml",
      "/ui/nothing.js": "application/problem+json",
    };
    const bodies: Record<string, string> = {};
    for (const [path, type] of Object.entries(types)) {
      const res = await fleet.server.fetch(path);
      expect(res.status).toBe(path === "/ui/nothing.js" ? 404 : 200);
      expect(res.headers.get("content-type")).toBe(type);
      expect(res.headers.get("content-security-policy")).toBe(csp);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("referrer-policy")).toBe("no-referrer");
      expect(res.headers.get("x-frame-options")).toBe("DENY");
      bodies[path] = await res.text();
    }
    const bare = await fleet.server.fetch("/ui", { redirect: "manual" });
    expect(bare.status).toBe(308);
    expect(bare.headers.get("location")).toBe("/ui/");

    // The page loads one script from its own origin and carries no inline script or style.
    const html = bodies["/ui/"] as string;
    expect(html).toContain('<script type="module" src="app.js"></script>');
    expect(html.match(/<script/g)?.length).toBe(1);
    expect(html).not.toMatch(/\sstyle=|<style|https?:\/\//);
    // The script is bundled JavaScript with no import of anything else, and the executable itself holds it.
    const script = bodies["/ui/app.js"] as string;
    expect(script).not.toMatch(/\bimport\s*[{("'*]|https?:\/\/(?!www\.w3\.org\/2000\/svg)/);
    const prefix = script.slice(0, 400);
    expect(prefix).toMatch(/^[\x20-\x7e]+$/);
    expect(readFileSync(fleet.bin.server).includes(Buffer.from(prefix))).toBe(true);
  },
  UI_TEST_MS,
);

test(
  "sign-in: a refused token is named; the accepted one lives in this tab's sessionStorage only",
  async () => {
    const token = fleet.server.token();
    const browser = fleet.browser;
    const firstRequest = browser.requests.length;
    const page = await browser.newPage();
    await page.goto(`${fleet.server.url}/ui/`);
    const field = page.getByLabel("Admin token");
    expect(await field.getAttribute("type")).toBe("password");
    await browser.screenshot(page, "sign-in");

    await field.fill("not-the-admin-token");
    await field.press("Enter");
    await page.getByRole("alert").filter({ hasText: "The server refused this token" }).waitFor();

    await field.fill(token);
    await field.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Fleet overview" }).waitFor();
    const storage = await page.evaluate(() => ({
      session: Object.fromEntries(Object.entries(sessionStorage)),
      local: localStorage.length,
      cookie: document.cookie,
    }));
    expect(storage).toEqual({ session: { "iota.adminToken": token }, local: 0, cookie: "" });
    expect(await browser.context.cookies()).toEqual([]);

    // A reload keeps the session (same tab); another tab starts signed out.
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Fleet overview" }).waitFor();
    const other = await browser.newPage();
    await other.goto(`${fleet.server.url}/ui/`);
    await other.getByLabel("Admin token").waitFor();
    await other.close();

    const seen = browser.requests.slice(firstRequest);
    const api = seen.filter((r) => new URL(r.url).pathname.startsWith("/v1/"));
    expect(api.length).toBeGreaterThan(2);
    for (const r of seen) {
      expect(r.url).not.toContain(token);
      expect(r.url).not.toContain(encodeURIComponent(token));
    }
    expect(page.url()).not.toContain(token);
    // The accepted token went only as a Bearer header to this origin's API; the files went without it.
    expect(api.filter((r) => r.authorization === `Bearer ${token}`).length).toBe(api.length - 1);
    for (const r of seen.filter((r) => new URL(r.url).pathname.startsWith("/ui/")))
      expect(r.authorization).toBeUndefined();

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByText("You are signed out").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.close();
  },
  UI_TEST_MS,
);

test(
  "the overview lists every group with its device count from the API",
  async () => {
    const page = await signIn(fleet);
    await page.getByRole("heading", { level: 1, name: "Fleet overview" }).waitFor();
    expect((await rowOf(page, BIG)).Devices).toBe("100,000");
    expect((await rowOf(page, GROUP)).Devices).toBe("120");
    if (fleetApi) {
      expect(await figure(page, "Devices")).toBe("100,120");
      await page.getByRole("img", { name: /^Renewal forecast/ }).waitFor();
    } else {
      await page
        .getByText("Fleet status unavailable: this server does not answer GET /v1/status")
        .waitFor();
    }
    await fleet.browser.screenshot(page, "overview");
    await page.close();
  },
  UI_TEST_MS,
);

test(
  "a group of 100,000 devices is paged by the server, 50 devices per request",
  async () => {
    const page = await signIn(fleet);
    const pages: { url: string; items: number }[] = [];
    page.on("response", async (res) => {
      if (new URL(res.url()).pathname !== `/v1/groups/${BIG}/devices`) return;
      pages.push({
        url: res.url(),
        items: ((await res.json()) as { items: unknown[] }).items.length,
      });
    });
    await page.getByRole("link", { name: BIG, exact: true }).click();
    const table = page.getByRole("table", { name: `Devices of ${BIG}` });
    const rowNames = async () => await table.getByRole("rowheader").allInnerTexts();
    await page.getByText("Devices 1–50 of 100,000").waitFor();
    let names = await rowNames();
    expect(names.length).toBe(50);
    expect([names[0], names[49]]).toEqual(["dev-000001", "dev-000050"]);
    expect((await rowOf(page, "dev-000007")).State).toBe("created");
    await fleet.browser.screenshot(page, "group");

    await page.getByRole("button", { name: "Next page" }).click();
    await page.getByText("Devices 51–100 of 100,000").waitFor();
    names = await rowNames();
    expect([names[0], names[49]]).toEqual(["dev-000051", "dev-000100"]);
    // Paging moves the keyboard focus to the line saying which devices are shown.
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("results");
    await page.getByRole("button", { name: "Next page" }).click();
    await page.getByText("Devices 101–150 of 100,000").waitFor();
    await page.getByRole("button", { name: "Previous page" }).click();
    await page.getByText("Devices 51–100 of 100,000").waitFor();
    await page.getByRole("button", { name: "Previous page" }).click();
    await page.getByText("Devices 1–50 of 100,000").waitFor();
    expect(await page.getByRole("button", { name: "Previous page" }).count()).toBe(0);

    expect(pages.length).toBe(5);
    for (const p of pages) {
      expect(new URL(p.url).searchParams.get("limit")).toBe("50");
      expect(p.items).toBe(50);
    }
    await page.close();
  },
  UI_TEST_MS,
);

test(
  "a device page shows the certificate the server issued to the device iotad runs",
  async () => {
    const page = await signIn(fleet);
    await page.getByRole("link", { name: GROUP, exact: true }).click();
    await page.getByRole("link", { name: "lamp-001", exact: true }).click();
    await page.getByRole("heading", { level: 1, name: "lamp-001" }).waitFor();
    const device = await apiDevice("lamp-001");
    const agent = await fleet.agents.get("lamp-001")!.status();
    expect(agent?.serial).toBe(device.serial!);
    expect(await figure(page, "Serial")).toBe(device.serial!);
    expect(await figure(page, "Valid until")).toStartWith(utc(device.notAfter!));
    expect(await figure(page, "Valid from")).toStartWith(utc(device.notBefore!));
    expect(await figure(page, "Provisioned")).toStartWith(utc(device.provisionedAt!));
    await page.getByText("State: provisioned").waitFor();
    if (fleetApi) {
      const history = page.getByRole("table", { name: /^Issuance, renewal and revocation/ });
      expect(
        await history.getByRole("row").filter({ hasText: device.serial! }).textContent(),
      ).toContain("provisioned");
    } else {
      await page.getByText("History unavailable: this server does not answer").waitFor();
    }
    await fleet.browser.screenshot(page, "device");
    await page.close();
  },
  UI_TEST_MS,
);

test(
  "revoke and reset each ask first; cancelling changes nothing; iotad follows the device's new state",
  async () => {
    const page = await signIn(fleet);
    const agent = fleet.agents.get("lamp-002")!;
    const before = await apiDevice("lamp-002");
    await openDevice(page, "lamp-002");
    const revoke = page.getByRole("button", { name: "Revoke…" });
    const dialog = page.getByRole("dialog", { name: "Revoke lamp-002?" });

    await revoke.click();
    await dialog.waitFor();
    expect(await dialog.textContent()).toContain(
      "cannot provision again until an operator resets it",
    );
    // The safe answer has the focus; Escape cancels and gives the focus back.
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Cancel");
    await fleet.browser.screenshot(page, "revoke-confirmation");
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Revoke…");
    await revoke.click();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await dialog.waitFor({ state: "detached" });
    expect((await apiDevice("lamp-002")).state).toBe("provisioned");

    await revoke.click();
    await dialog.getByRole("button", { name: "Revoke lamp-002" }).click();
    await page.getByRole("status").filter({ hasText: "lamp-002 is revoked." }).waitFor();
    await page.getByText("State: revoked").waitFor();
    expect(await revoke.isDisabled()).toBe(true);
    expect((await apiDevice("lamp-002")).state).toBe("revoked");
    await fleet.browser.screenshot(page, "revoked");
    // The device learns it at its next renewal: SIGHUP renews now, and the service refuses.
    agent.proc.kill("SIGHUP");
    await agent.until((s) => s.state === "error", "lamp-002 refused after revocation");

    await page.getByRole("button", { name: "Reset…" }).click();
    const reset = page.getByRole("dialog", { name: "Reset lamp-002?" });
    expect(await reset.getByRole("checkbox", { name: "The device lost its key" }).isChecked()).toBe(
      false,
    );
    await reset.getByRole("button", { name: "Reset lamp-002" }).click();
    await page.getByRole("status").filter({ hasText: "lamp-002 is reset." }).waitFor();
    await page.getByText("State: created").waitFor();
    expect((await apiDevice("lamp-002")).state).toBe("created");

    // iotad provisions again by itself, proving it holds its key; the page shows the new certificate.
    agent.proc.kill("SIGHUP");
    const ready = await agent.until((s) => s.state === "ready", "lamp-002 provisioned again");
    await page.reload();
    await page.getByText("State: provisioned").waitFor();
    expect(await figure(page, "Serial")).toBe(ready.serial as string);
    expect(ready.serial).not.toBe(before.serial);
    await page.close();
  },
  UI_TEST_MS,
);

test(
  "keyboard and assistive technology: landmarks, names for every control, visible focus",
  async () => {
    const page = await fleet.browser.newPage();
    await page.goto(`${fleet.server.url}/ui/`);
    // Keyboard only: the token field has the focus; typing and Enter sign in.
    await page.getByLabel("Admin token").waitFor();
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("token");
    await page.keyboard.type(fleet.server.token());
    await page.keyboard.press("Enter");
    const heading = page.getByRole("heading", { level: 1, name: "Fleet overview" });
    await heading.waitFor();
    expect(await heading.evaluate((el) => el === document.activeElement)).toBe(true);

    for (const [role, name] of [
      ["banner", undefined],
      ["navigation", "Main"],
      ["main", undefined],
      ["contentinfo", undefined],
    ] as const)
      expect(await page.getByRole(role, name ? { name } : {}).count()).toBe(1);

    // On a fresh load the reader starts at the top: the skip link is the first Tab stop, and moves focus to <main>.
    await page.reload();
    await heading.waitFor();
    expect(await page.evaluate(() => document.activeElement === document.body)).toBe(true);
    await page.keyboard.press("Tab");
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Skip to content");
    await page.keyboard.press("Enter");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("main");

    // Every control on every page has a name a screen reader can say.
    const unnamed = /^\s*- (textbox|searchbox|combobox|checkbox|button|link)\b(?! ")/m;
    for (const [hash, heading] of [
      ["#/", "Fleet overview"],
      [`#/groups/${GROUP}`, GROUP],
      [`#/groups/${GROUP}/devices/lamp-001`, "lamp-001"],
    ] as const) {
      await page.goto(`${fleet.server.url}/ui/${hash}`);
      await page.getByRole("heading", { level: 1, name: heading, exact: true }).waitFor();
      const tree = await page.locator("body").ariaSnapshot();
      expect(tree).not.toMatch(unnamed);
    }
    await page.goto(`${fleet.server.url}/ui/#/groups/${GROUP}`);
    await page.getByRole("heading", { level: 1, name: GROUP }).waitFor();
    for (const label of ["Name starts with", "State", "Online", "Certificate expires"])
      expect(await page.getByLabel(label, { exact: true }).count()).toBe(1);

    // From the group table to a device by keyboard; the focus lands on the new page's heading.
    await page.getByRole("link", { name: "lamp-001", exact: true }).focus();
    await page.keyboard.press("Enter");
    const device = page.getByRole("heading", { level: 1, name: "lamp-001" });
    await device.waitFor();
    expect(await device.evaluate((el) => el === document.activeElement)).toBe(true);
    // Keyboard focus is visible: a 3 px outline on the focused control.
    await page.keyboard.press("Tab");
    const outline = await page.evaluate(() => {
      const style = getComputedStyle(document.activeElement as Element);
      return { style: style.outlineStyle, width: Number.parseFloat(style.outlineWidth) };
    });
    expect(outline.style).not.toBe("none");
    expect(outline.width).toBeGreaterThanOrEqual(2);
    await page.close();
  },
  UI_TEST_MS,
);

test(
  "at phone width (390 px) every page fits: nothing scrolls sideways",
  async () => {
    const page = await signIn(fleet, 390, 844);
    for (const [hash, name, heading] of [
      ["#/", "overview", "Fleet overview"],
      [`#/groups/${BIG}`, "group", BIG],
      [`#/groups/${GROUP}/devices/lamp-001`, "device", "lamp-001"],
    ] as const) {
      await page.goto(`${fleet.server.url}/ui/${hash}`);
      await page.getByRole("heading", { level: 1, name: heading, exact: true }).waitFor();
      const widths = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        view: window.innerWidth,
      }));
      expect(widths.page).toBeLessThanOrEqual(widths.view);
      await fleet.browser.screenshot(page, `phone-${name}`);
    }
    // On a phone each device row is a card whose cells say which column they are.
    await page.goto(`${fleet.server.url}/ui/#/groups/${BIG}`);
    await page.getByRole("heading", { level: 1, name: BIG }).waitFor();
    const cell = page.getByRole("row").nth(1).getByRole("cell").first();
    expect(await cell.evaluate((el) => getComputedStyle(el, "::before").content)).toBe('"State"');
    await page.close();
  },
  UI_TEST_MS,
);

test(
  "no request leaves the origin and no script error occurs, on any page",
  async () => {
    const origin = new URL(fleet.server.url).origin;
    const page = await fleet.browser.newPage();
    const requests: string[] = [];
    const errors: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    page.on("pageerror", (e) => errors.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() !== "error") return;
      const url = m.location().url;
      // Hint: Chromium logs every 404 as a console error; without the fleet API its calls answer 404, as expected.
      const fleetCall =
        /\/v1\/(status|groups\/[^/]+\/status|groups\/[^/]+\/devices\/[^/]+\/history)$/;
      if (!fleetApi && m.text().includes("status of 404") && fleetCall.test(new URL(url).pathname))
        return;
      errors.push(`console error: ${m.text()} (${url})`);
    });
    await page.goto(`${origin}/ui/`);
    await page.getByLabel("Admin token").fill(fleet.server.token());
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Fleet overview" }).waitFor();
    await page.getByRole("link", { name: GROUP, exact: true }).click();
    await page.getByRole("button", { name: "Next page" }).click();
    await page.getByText("Devices 51–100 of 120").waitFor();
    await page.getByRole("link", { name: "lamp-051", exact: true }).click();
    await page.getByRole("button", { name: "Reset…" }).click();
    await page.getByRole("button", { name: "Cancel" }).click();
    await page.goto(`${origin}/ui/#/no/such/page`);
    await page.getByRole("heading", { level: 1, name: "Page not found" }).waitFor();
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${origin}/ui/#/groups/${GROUP}/devices/lamp-001`);
    await page.getByRole("heading", { level: 1, name: "lamp-001" }).waitFor();
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("Admin token").waitFor();

    expect(requests.length).toBeGreaterThan(10);
    expect(requests.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    expect(errors).toEqual([]);

    // The policy is live in the browser: an inline script is refused.
    await expect(page.addScriptTag({ content: "window.inlineRan = true" })).rejects.toThrow();
    expect(
      await page.evaluate(() => (window as { inlineRan?: boolean }).inlineRan),
    ).toBeUndefined();
    await page.close();
  },
  UI_TEST_MS,
);
