/**
 * The dashboard as an operator meets it in Debian's Chromium, against a real iota-server run from its sources:
 * names at their 63-character limit on a phone, a token pasted with a stray character, the filter form from
 * the keyboard, a refused action, the admin token rotated mid-session, an expired certificate under the
 * expiry filter, and more groups than one page of the overview.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Page } from "playwright-core";
import { startBrowser, type TestBrowser } from "../helpers/browser.ts";
import { provisionWithToken } from "../helpers/device-client.ts";
import { figure, signIn as signInTab } from "./dashboard-fixture.ts";
import { BUN, ROOT, startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

/** A group and a device named at the 63-character limit, with no break opportunity in the device's. */
const LONG_GROUP = `${"g".repeat(30)}-${"x".repeat(32)}`;
const LONG_DEVICE = "d".repeat(63);
const GROUP = "room2-lights";

/** A browser test drives real processes: a generous limit, far above what it takes (1-2 s). */
const UI_TEST_MS = 60_000;

let server: ServerProcess;
let browser: TestBrowser;

beforeAll(async () => {
  server = await startServerProcess({ tls: true, args: ["--issue-rate", "0"] });
  browser = await startBrowser(server.url, server.serverCaPem);
  for (const [group, devices] of [
    [LONG_GROUP, [LONG_DEVICE, "device-2"]],
    [GROUP, Array.from({ length: 30 }, (_, i) => `lamp-${String(i + 1).padStart(2, "0")}`)],
  ] as const) {
    await server.admin("POST", "/v1/groups", { name: group, validity: "1d" }, 201);
    await server.admin("POST", `/v1/groups/${group}/devices`, { names: devices }, 200);
  }
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

/** A fresh tab at `width`, signed in, on the fleet overview. */
async function signIn(width = 1280): Promise<Page> {
  const page = await signInTab({ server, browser }, width, 844);
  await page.getByRole("heading", { level: 1, name: "Fleet overview" }).waitFor();
  return page;
}

/** Provisions `device` of `group` with a fresh key, as iotad would (the group's secret is rotated to learn it). */
async function provision(group: string, device: string): Promise<void> {
  const secret = (await server.admin("POST", `/v1/groups/${group}/secret`, undefined, 200))
    .provisioningSecret as string;
  await provisionWithToken(server, group, device, secret);
}

test(
  "at phone width, names at their 63-character limit wrap: every figure, cell and button stays in view",
  async () => {
    await provision(LONG_GROUP, LONG_DEVICE);
    const page = await signIn(390);
    const group = `#/groups/${LONG_GROUP}`;
    for (const [hash, heading, name] of [
      ["#/", "Fleet overview", "overview"],
      [group, LONG_GROUP, "group"],
      [`${group}/devices/${LONG_DEVICE}`, LONG_DEVICE, "device"],
    ] as const) {
      await page.goto(`${server.url}/ui/${hash}`);
      await page.getByRole("heading", { level: 1, name: heading, exact: true }).waitFor();
      const widths = await page.evaluate(() => ({
        page: document.documentElement.scrollWidth,
        view: window.innerWidth,
        // A table wider than its region hides the right-aligned values of each card off to the side.
        tables: Array.from(document.querySelectorAll<HTMLElement>(".table-scroll")).map(
          (region) => region.scrollWidth - region.clientWidth,
        ),
      }));
      await browser.screenshot(page, `phone-long-names-${name}`);
      expect(widths.page).toBeLessThanOrEqual(widths.view);
      for (const overflow of widths.tables) expect(overflow).toBeLessThanOrEqual(0);
    }
    // The confirmation names the device in its title, text and button: Cancel and Revoke both stay in view.
    await page.getByRole("button", { name: "Revoke…" }).click();
    const dialog = page.getByRole("dialog", { name: `Revoke ${LONG_DEVICE}?` });
    await dialog.waitFor();
    await browser.screenshot(page, "phone-long-names-confirmation");
    expect(await dialog.evaluate((d) => d.scrollWidth - d.clientWidth)).toBeLessThanOrEqual(0);
    for (const name of ["Cancel", `Revoke ${LONG_DEVICE}`]) {
      const box = await dialog.getByRole("button", { name, exact: true }).boundingBox();
      expect(box && [box.x >= 0, box.x + box.width <= 390]).toEqual([true, true]);
    }
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached" });

    // The long group's row on the overview shows its device count where the operator can read it.
    await page.goto(`${server.url}/ui/#/`);
    const row = page
      .getByRole("row")
      .filter({ has: page.getByRole("rowheader", { name: LONG_GROUP }) });
    const devices = row.locator('td[data-label="Devices"]');
    expect((await devices.textContent())?.trim()).toBe("2");
    const box = await devices.boundingBox();
    expect(box && box.x + box.width).toBeLessThanOrEqual(390);
    await page.close();
  },
  UI_TEST_MS,
);

test(
  "a token pasted with an invisible character is named as such, not taken for an unreachable server",
  async () => {
    const page = await browser.newPage();
    await page.goto(`${server.url}/ui/`);
    const field = page.getByLabel("Admin token");
    await field.fill(`${server.token()}\u200b`);
    await field.press("Enter");
    const alert = page.getByRole("alert");
    await alert.waitFor();
    expect(await alert.textContent()).toStartWith(
      `The admin token holds U+200B at character ${server.token().length + 1}:`,
    );
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await field.fill(server.token());
    await field.press("Enter");
    await page.getByRole("heading", { level: 1, name: "Fleet overview" }).waitFor();
    await page.close();
  },
  UI_TEST_MS,
);

test(
  "from the keyboard, the arrow keys walk a filter's options: each applies and the focus stays on it",
  async () => {
    const page = await signIn();
    await page.goto(`${server.url}/ui/#/groups/${GROUP}`);
    await page.getByRole("heading", { level: 1, name: GROUP }).waitFor();
    const focused = () => page.evaluate(() => document.activeElement?.id);
    /** Presses `key` and waits for the page it leads to (the old one gone). */
    const press = async (key: string) => {
      const old = await page.locator("#results").elementHandle();
      await page.keyboard.press(key);
      await old?.waitForElementState("hidden");
      await page.locator("#results").waitFor();
    };
    await page.getByLabel("State", { exact: true }).focus();
    for (const state of ["created", "provisioned", "revoked"]) {
      await press("ArrowDown");
      expect(page.url()).toEndWith(`?state=${state}`);
      expect(await focused()).toBe("state");
    }
    expect(page.url()).toEndWith(`#/groups/${GROUP}?state=revoked`);
    await page.getByText("No device matches these filters.").waitFor();
    // The same from the Online select, and the overdue box toggled with the space bar.
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("online");
    await press("ArrowDown");
    expect(page.url()).toEndWith("?state=revoked&online=true");
    expect(await focused()).toBe("online");
    await page.keyboard.press("Tab");
    await page.keyboard.press("Tab");
    expect(await focused()).toBe("overdue");
    await press("Space");
    expect(page.url()).toEndWith("&overdue=true");
    expect(await focused()).toBe("overdue");
    // A filter the server refuses is read out first, even after a select's change.
    await page.getByLabel("Name starts with").fill("lamp 1");
    await page.getByLabel("State", { exact: true }).focus();
    await press("ArrowUp");
    expect(await focused()).toBe("results");
    expect(await page.locator("#results").textContent()).toStartWith(
      "The server refused these filters: q must be the start of a name",
    );
    // Applying with the button still lands on the line saying which devices are shown.
    await page.getByRole("button", { name: "Clear" }).click();
    await page.waitForURL(new RegExp(`#/groups/${GROUP}$`));
    await page.getByText("Devices 1–30 of 30").waitFor();
    await page.getByLabel("Name starts with").fill("lamp-1");
    await page.getByRole("button", { name: "Apply" }).click();
    await page.getByText("Devices 1–10 matching the filters").waitFor();
    expect(await focused()).toBe("results");
    await page.close();
  },
  UI_TEST_MS,
);

test(
  "an action the API refuses is shown and the focus stays on its button; a rotated token asks to sign in",
  async () => {
    const page = await signIn();
    const device = "lamp-30";
    await page.goto(`${server.url}/ui/#/groups/${GROUP}/devices/${device}`);
    await page.getByRole("heading", { level: 1, name: device }).waitFor();
    // Someone deletes the device meanwhile: the reset answers 404, and the operator reads why.
    await server.admin("DELETE", `/v1/groups/${GROUP}/devices/${device}`, undefined, 204);
    await page.getByRole("button", { name: "Reset…" }).click();
    await page.getByRole("button", { name: `Reset ${device}` }).click();
    await page
      .getByRole("alert")
      .filter({ hasText: `No device named "${device}"` })
      .waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe("Reset…");

    // The admin token is rotated while the page is open: the next action leads to the sign-in form.
    await server.admin("POST", `/v1/groups/${GROUP}/devices`, { name: device }, 201);
    const rotate = Bun.spawnSync(
      [BUN, `${ROOT}/src/iota-server/main.ts`, "rotate-admin-token", "--data", server.data],
      { stdout: "pipe", stderr: "pipe" },
    );
    expect(rotate.exitCode).toBe(0);
    await page.getByRole("button", { name: "Revoke…" }).click();
    await page.getByRole("button", { name: `Revoke ${device}` }).click();
    await page.getByText("The server no longer accepts this tab's token; sign in again.").waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    await page.getByLabel("Admin token").fill(server.token());
    await page.getByRole("button", { name: "Sign in" }).click();
    // Signed in again, the operator is back on the device, which nothing revoked.
    await page.getByRole("heading", { level: 1, name: device }).waitFor();
    await page.getByText("State: created").waitFor();
    await page.close();
  },
  UI_TEST_MS,
);

test("an expired certificate says so, and the expiry filter names what it lists beside the figures", async () => {
  const group = "short-lived";
  const device = "probe-1";
  await server.admin("POST", "/v1/groups", { name: group, validity: "1m" }, 201);
  await server.admin("POST", `/v1/groups/${group}/devices`, { names: [device, "probe-2"] }, 200);
  await provision(group, device);
  const { notAfter } = await server.admin(
    "GET",
    `/v1/groups/${group}/devices/${device}`,
    undefined,
    200,
  );
  // Hint: the shortest validity is a minute; the test waits for that moment to pass, not for a guess.
  while (Date.now() <= Date.parse(notAfter as string) + 1_000) await Bun.sleep(500);

  const page = await signIn();
  await page.goto(`${server.url}/ui/#/groups/${group}`);
  await page.getByRole("heading", { level: 1, name: group }).waitFor();
  // The figures count certificates still valid: the expired one is in neither.
  expect(await figure(page, "Expiring within 24 h")).toBe("0");
  const expiring = page.getByLabel("Certificate expires", { exact: true });
  expect(await expiring.locator("option").allTextContents()).toEqual([
    "any time",
    "within 24 hours, or expired",
    "within 7 days, or expired",
  ]);
  const old = await page.locator("#results").elementHandle();
  await expiring.selectOption("24h");
  await old?.waitForElementState("hidden");
  await page.getByText("Devices 1–1 matching the filters").waitFor();
  const cell = page
    .getByRole("row")
    .filter({ has: page.getByRole("rowheader", { name: device }) })
    .locator('td[data-label="Certificate expires"]');
  expect((await cell.textContent())?.trim()).toStartWith("expired ");

  await page.getByRole("link", { name: device, exact: true }).click();
  await page.getByRole("heading", { level: 1, name: device }).waitFor();
  expect(await figure(page, "Valid until")).toStartWith("expired ");
  await page.close();
}, 120_000);

test(
  "more groups than one page of the overview: the next page says which, takes the focus, and leads back",
  async () => {
    const zones = Array.from({ length: 100 }, (_, i) => `zone-${String(i + 1).padStart(3, "0")}`);
    for (let i = 0; i < zones.length; i += 10)
      await Promise.all(
        zones.slice(i, i + 10).map((name) => server.admin("POST", "/v1/groups", { name }, 201)),
      );
    // The API's first page of groups (100, in name order) and the rest after its cursor.
    const first = (await server.admin("GET", "/v1/status", undefined, 200)) as {
      groups: { name: string }[];
      nextCursor?: string;
    };
    const cursor = first.nextCursor as string;
    const rest = (await server.admin("GET", `/v1/status?cursor=${cursor}`, undefined, 200)) as {
      groups: { name: string }[];
    };
    expect(rest.groups.length).toBeGreaterThan(0);

    const page = await signIn();
    const table = page.getByRole("table", { name: "Groups and their devices" });
    expect(await table.getByRole("rowheader").allTextContents()).toEqual(
      first.groups.map((g) => g.name),
    );
    await page.getByRole("link", { name: "More groups" }).click();
    const shown = page.locator("#groups-shown");
    await shown.waitFor();
    expect((await shown.textContent())?.trim()).toBe(
      `Groups after ${cursor}: ${rest.groups.length} shown.`,
    );
    expect(await shown.evaluate((el) => el === document.activeElement)).toBe(true);
    expect(await table.getByRole("rowheader").allTextContents()).toEqual(
      rest.groups.map((g) => g.name),
    );
    expect(await page.getByRole("link", { name: "More groups" }).count()).toBe(0);
    await page.getByRole("link", { name: "First groups" }).click();
    await shown.waitFor({ state: "detached" });
    await page.getByRole("link", { name: "More groups" }).waitFor();
    expect(await table.getByRole("rowheader").first().textContent()).toBe(
      first.groups[0]?.name ?? "",
    );
    await page.close();
  },
  UI_TEST_MS,
);
