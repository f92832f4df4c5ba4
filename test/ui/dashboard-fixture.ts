/**
 * The world of the dashboard's browser tests: iota-server compiled as the release compiles it (so /ui/ is
 * served from the single executable), its embedded broker, devices run by the compiled iotad, and Chromium.
 */

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { compileProgram } from "../../packaging/build/compile.ts";
import { TARGETS } from "../../targets/index.ts";
import { deviceToken } from "../../src/core/token.ts";
import {
  buildCompiledAgent,
  startCompiledAgent,
  type AgentProcess,
} from "../faults/agent-process.ts";
import { startBrowser, type TestBrowser } from "../helpers/browser.ts";
import { BUN, ROOT, startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

/** The compiled programs. */
export interface Binaries {
  server: string;
  iotad: string;
}

/** Compiles iota-server (the release's flags, for this machine's Linux target) and iotad into `dir`. */
export async function buildBinaries(dir: string): Promise<Binaries> {
  const name = process.arch === "arm64" ? "linux-arm64" : "linux-x64";
  const target = TARGETS.find((t) => t.name === name);
  if (!target) throw new Error(`no build target ${name} in targets/`);
  return {
    server: await compileProgram(BUN, ROOT, dir, "iota-server", target),
    iotad: buildCompiledAgent(dir),
  };
}

/** A running fleet: the server, its devices' agents, a browser, and what to clean up. */
export interface Fleet {
  bin: Binaries;
  server: ServerProcess;
  browser: TestBrowser;
  /** The agents by device name. */
  agents: Map<string, AgentProcess>;
  /** Creates `group` with `validity`; returns its provisioning secret. */
  addGroup(group: string, validity: string): Promise<string>;
  /** Creates `device` and runs the compiled iotad for it until it is ready and announced over MQTT. */
  runDevice(group: string, device: string, secret: string): Promise<AgentProcess>;
  stop(): Promise<void>;
}

/** Builds the programs, starts the compiled server with its broker and a browser pinned to its key. */
export async function startFleet(): Promise<Fleet> {
  // Hint: the executables (~200 MB) live in the fleet's folder, which stop() removes.
  const work = mkdtempSync(join(tmpdir(), "iota-ui-fleet-"));
  const agents = new Map<string, AgentProcess>();
  let bin: Binaries;
  let server: ServerProcess | undefined;
  let browser: TestBrowser;
  try {
    bin = await buildBinaries(work);
    server = await startServerProcess({
      tls: true,
      command: [bin.server],
      args: ["--mqtt-listen", "127.0.0.1:0"],
    });
    browser = await startBrowser(server.url, server.serverCaPem);
  } catch (error) {
    await server?.stop();
    rmSync(work, { recursive: true, force: true });
    throw error;
  }
  return {
    bin,
    server,
    browser,
    agents,
    async addGroup(group, validity) {
      const answer = await server.admin("POST", "/v1/groups", { name: group, validity }, 201);
      return answer.provisioningSecret as string;
    },
    async runDevice(group, device, secret) {
      await server.admin("POST", `/v1/groups/${group}/devices`, { name: device }, 201);
      const config = join(work, `${device}.json`);
      writeFileSync(
        config,
        JSON.stringify({
          server: server.url,
          serverCa: server.serverCaPem,
          group,
          device,
          token: deviceToken(secret, group, device),
          dataDir: join(work, device),
          statusListen: "127.0.0.1:0",
          // The embedded broker presents a certificate from the server CA.
          mqtt: { url: server.brokerUrl, ca: server.serverCaPem },
        }),
      );
      const agent = startCompiledAgent(bin.iotad, config);
      agents.set(device, agent);
      await agent.until(
        (s) => s.state === "ready" && (s.mqtt as { state?: string }).state === "connected",
        `${device} ready and connected to the broker`,
      );
      return agent;
    },
    async stop() {
      await Promise.all([...agents.values()].map((a) => a.stop()));
      await browser.close();
      await server.stop();
      rmSync(work, { recursive: true, force: true });
    },
  };
}

/** Opens /ui/ in a fresh tab and signs in with the admin token typed into the password field. */
export async function signIn(
  fleet: Pick<Fleet, "server" | "browser">,
  width = 1280,
  height = 800,
): Promise<Page> {
  const page = await fleet.browser.newPage(width, height);
  await page.goto(`${fleet.server.url}/ui/`);
  await page.getByLabel("Admin token").fill(fleet.server.token());
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("button", { name: "Sign out" }).waitFor();
  return page;
}

/** The value an operator reads beside the figure labelled `label` (a <dt>/<dd> pair). */
export async function figure(page: Page, label: string): Promise<string> {
  const term = page.locator("main dt", { hasText: new RegExp(`^${label}$`) }).first();
  return ((await term.locator("xpath=following-sibling::dd[1]").textContent()) ?? "").trim();
}

/** The cells of the table row whose header is `name`, keyed by their column titles. */
export async function rowOf(page: Page, name: string): Promise<Record<string, string>> {
  const header = page.getByRole("rowheader", { name, exact: true });
  const cells = await page.getByRole("row").filter({ has: header }).locator("th, td").all();
  const out: Record<string, string> = {};
  for (const cell of cells)
    out[(await cell.getAttribute("data-label")) ?? "?"] = ((await cell.textContent()) ?? "").trim();
  return out;
}
