/**
 * The dashboard's fleet view in Debian's Chromium, against the compiled iota-server and devices run by the
 * compiled iotad: counts, the renewal forecast and expiry timeline, readiness in the device table, the
 * server-side filters, and a device's history after a renewal and a revocation. It needs the fleet API
 * (GET /v1/status, group status, device filters and history) and says so in one line when it is missing.
 */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { ROOT } from "../helpers/server-process.ts";
import { figure, rowOf, signIn, startFleet, type Fleet } from "./dashboard-fixture.ts";

const GROUP = "room2-lights";
const utc = (iso: string) => `${iso.slice(0, 10)} ${iso.slice(11, 16)} UTC`;

interface Status {
  online: number;
  offline: number;
  forecast: { renewals: number[] };
}

/** A browser test drives real processes: a generous limit, far above what it takes (1-2 s). */
const UI_TEST_MS = 60_000;

let fleet: Fleet;
let page: Page;

/** GET /v1/status once `ok` holds for it (readiness reaches the server over MQTT). */
async function statusWhen(ok: (s: Status) => boolean, what: string): Promise<Status> {
  const started = Date.now();
  for (;;) {
    const answer = (await fleet.server.admin("GET", "/v1/status", undefined, 200)) as unknown;
    if (ok(answer as Status)) return answer as Status;
    if (Date.now() - started > 60_000)
      throw new Error(`GET /v1/status never showed ${what}: ${JSON.stringify(answer)}`);
    await Bun.sleep(200);
  }
}

async function deviceNames(): Promise<string[]> {
  await page.locator("#results").waitFor();
  const table = page.getByRole("table", { name: `Devices of ${GROUP}` });
  if ((await table.count()) === 0) return [];
  return await table.getByRole("rowheader").allTextContents();
}

/** Runs `action` and returns the devices of the page it leads to (once the old page is gone). */
async function after(action: () => Promise<unknown>): Promise<string[]> {
  const old = await page.locator("#results").elementHandle();
  await action();
  await old?.waitForElementState("hidden");
  return await deviceNames();
}

/** Sets the filter form's `label` select (which applies at once) and returns the devices shown. */
async function filter(label: string, value: string): Promise<string[]> {
  return await after(() => page.getByLabel(label, { exact: true }).selectOption(value));
}

beforeAll(async () => {
  fleet = await startFleet();
  if ((await fleet.server.adminCall("GET", "/v1/status")).status === 404) {
    await fleet.stop();
    throw new Error(
      "test/ui/fleet-dashboard.test.ts needs the fleet API (GET /v1/status answered 404 on this branch)",
    );
  }
  const secret = await fleet.addGroup(GROUP, "1h");
  await Promise.all([
    fleet.runDevice(GROUP, "lamp-1", secret),
    fleet.runDevice(GROUP, "lamp-2", secret),
  ]);
  await fleet.server.admin(
    "POST",
    `/v1/groups/${GROUP}/devices`,
    { names: ["lamp-3", "lamp-4"] },
    200,
  );
  await fleet.server.admin("POST", `/v1/groups/${GROUP}/devices/lamp-4/revoke`, undefined, 200);
  await statusWhen((s) => s.online === 2, "2 devices online");
  page = await signIn(fleet);
}, 240_000);

afterAll(async () => {
  await fleet?.stop();
});

test(
  "the overview shows the fleet's counts, forecast and expiry as GET /v1/status answers them",
  async () => {
    const status = await statusWhen((s) => s.online === 2, "2 devices online");
    await page.goto(`${fleet.server.url}/ui/#/`);
    await page.reload();
    await page.getByRole("heading", { level: 1, name: "Fleet overview" }).waitFor();
    const figures: Record<string, string> = {};
    for (const label of ["Devices", "Created", "Provisioned", "Revoked", "Online", "Offline"])
      figures[label] = await figure(page, label);
    figures.soon = await figure(page, "Expiring within 24 h");
    figures.overdue = await figure(page, "Overdue renewals");
    expect(figures).toEqual({
      Devices: "4",
      Created: "1",
      Provisioned: "2",
      Revoked: "1",
      Online: "2",
      Offline: "0",
      soon: "2",
      overdue: "0",
    });
    const row = await rowOf(page, GROUP);
    expect([row.Devices, row.Online, row.Offline, row["Expiring within 24 h"]]).toEqual([
      "4",
      "2",
      "0",
      "2",
    ]);

    // The forecast's bars add up to the renewals the API plans: both provisioned devices, once each.
    const planned = status.forecast.renewals.reduce((a, b) => a + b, 0);
    expect(planned).toBe(2);
    const chart = page.getByRole("img", { name: /^Renewal forecast/ });
    const bars = await chart.locator("rect.bar title").allTextContents();
    expect(bars.reduce((sum, title) => sum + Number.parseInt(title, 10), 0)).toBe(planned);
    await page.getByText("2 renewals are due in the next").waitFor();
    await page.getByRole("img", { name: /^Certificate expiry timeline/ }).waitFor();
    await page
      .getByText(
        "2 certificates expire within 24 hours and 0 more within 7 days; 0 renewals are overdue",
      )
      .waitFor();
    const shot = await fleet.browser.screenshot(page, "fleet-overview");
    // Hint: IOTA_UI_DOCS_SCREENSHOT=1 refreshes the README's picture from this very page.
    if (process.env.IOTA_UI_DOCS_SCREENSHOT === "1")
      copyFileSync(shot, join(ROOT, "docs/dashboard.png"));
  },
  UI_TEST_MS,
);

test(
  "the group table shows readiness, next renewal and last seen, and filters on the server",
  async () => {
    await page.goto(`${fleet.server.url}/ui/#/groups/${GROUP}`);
    await page.getByRole("heading", { level: 1, name: GROUP }).waitFor();
    expect(await deviceNames()).toEqual(["lamp-1", "lamp-2", "lamp-3", "lamp-4"]);
    const api = (await fleet.server.admin(
      "GET",
      `/v1/groups/${GROUP}/devices/lamp-1`,
      undefined,
      200,
    )) as Record<string, string>;
    const lamp1 = await rowOf(page, "lamp-1");
    expect(lamp1.State).toBe("provisioned");
    expect(lamp1.Online).toBe("online");
    expect(lamp1["Next renewal"]).toStartWith(utc(api.renewAt as string));
    expect(lamp1["Last seen"]).toStartWith(utc(api.seenAt as string));
    expect((await rowOf(page, "lamp-3")).Online).toBe("never seen");
    expect((await rowOf(page, "lamp-4")).State).toBe("revoked");
    await fleet.browser.screenshot(page, "fleet-group");

    expect(await filter("State", "revoked")).toEqual(["lamp-4"]);
    expect(page.url()).toContain("state=revoked");
    expect(await filter("State", "")).toEqual(["lamp-1", "lamp-2", "lamp-3", "lamp-4"]);
    // Hint: a time filter lists the most urgent first (by expiry, then name); the two agents started together.
    const byExpiry = await Promise.all(
      ["lamp-1", "lamp-2"].map(async (name) => {
        const view = (await fleet.server.admin(
          "GET",
          `/v1/groups/${GROUP}/devices/${name}`,
          undefined,
          200,
        )) as Record<string, string>;
        return { name, notAfter: Date.parse(view.notAfter as string) };
      }),
    );
    byExpiry.sort((a, b) => a.notAfter - b.notAfter || (a.name < b.name ? -1 : 1));
    expect(await filter("Certificate expires", "24h")).toEqual(byExpiry.map((d) => d.name));
    // Hint: filters combine; with the expiry filter still on, the list keeps its expiry order.
    expect(await filter("Online", "true")).toEqual(byExpiry.map((d) => d.name));
    await page.getByRole("button", { name: "Clear" }).click();
    await page.getByText("Devices 1–4 of 4").waitFor();

    const search = page.getByLabel("Name starts with");
    await search.fill("lamp-3");
    expect(await after(() => search.press("Enter"))).toEqual(["lamp-3"]);
    expect(page.url()).toContain("q=lamp-3");
    await page.getByRole("button", { name: "Clear" }).click();
    await page.getByText("Devices 1–4 of 4").waitFor();
    expect(await after(() => page.getByLabel("Overdue renewals only").check())).toEqual([]);
    await page.getByText("No device matches these filters.").waitFor();
  },
  UI_TEST_MS,
);

test(
  "a renewal shows in the device's history with the new serial",
  async () => {
    const agent = fleet.agents.get("lamp-1")!;
    const before = (await agent.status())!.serial as string;
    agent.proc.kill("SIGHUP");
    const renewed = await agent.until((s) => s.renewals === 1, "lamp-1 renewed");
    expect(renewed.serial).not.toBe(before);
    await page.goto(`${fleet.server.url}/ui/#/groups/${GROUP}/devices/lamp-1`);
    await page.getByRole("heading", { level: 1, name: "lamp-1" }).waitFor();
    expect(await figure(page, "Serial")).toBe(renewed.serial as string);
    const history = page.getByRole("table", { name: /^Issuance, renewal and revocation/ });
    const rows = await history.getByRole("row").all();
    const events: string[][] = [];
    for (const row of rows.slice(1))
      events.push((await row.getByRole("cell").allTextContents()).map((t) => t.trim()));
    // Oldest first: the issuance, then the renewal, each with the serial it issued.
    const issued = events.filter((e) => e[0] !== "created");
    expect(issued).toEqual([
      ["provisioned", before],
      ["renewed", renewed.serial as string],
    ]);
    await fleet.browser.screenshot(page, "fleet-device-history");
  },
  UI_TEST_MS,
);

test(
  "a stopped agent shows offline, and a revocation joins the history",
  async () => {
    await fleet.agents.get("lamp-2")!.stop();
    await statusWhen((s) => s.online === 1 && s.offline === 1, "lamp-2 offline");
    await page.goto(`${fleet.server.url}/ui/#/`);
    await page.getByRole("heading", { level: 1, name: "Fleet overview" }).waitFor();
    expect([await figure(page, "Online"), await figure(page, "Offline")]).toEqual(["1", "1"]);
    await page.goto(`${fleet.server.url}/ui/#/groups/${GROUP}?online=false`);
    expect(await deviceNames()).toEqual(["lamp-2"]);
    expect((await rowOf(page, "lamp-2")).Online).toBe("offline");

    await page.goto(`${fleet.server.url}/ui/#/groups/${GROUP}/devices/lamp-1`);
    await page.getByRole("button", { name: "Revoke…" }).click();
    await page.getByRole("button", { name: "Revoke lamp-1" }).click();
    await page.getByRole("status").filter({ hasText: "lamp-1 is revoked." }).waitFor();
    const history = page.getByRole("table", { name: /^Issuance, renewal and revocation/ });
    await history.getByRole("row").filter({ hasText: "revoked" }).waitFor();
    await page.goto(`${fleet.server.url}/ui/#/`);
    await page.getByRole("heading", { level: 1, name: "Fleet overview" }).waitFor();
    expect(await figure(page, "Revoked")).toBe("2");
  },
  UI_TEST_MS,
);
