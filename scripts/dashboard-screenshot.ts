/**
 * Makes docs/dashboard.png, the README's picture of the dashboard: a fresh iota-server with a demo fleet
 * (groups of created, provisioned and revoked devices with real certificates, and two devices run by iotad),
 * its overview opened in Debian's Chromium at laptop width. `bun scripts/dashboard-screenshot.ts [OUT.png]`.
 */

import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createCsrPem, generateDeviceKey } from "../src/core/csr.ts";
import { deviceToken } from "../src/core/token.ts";
import { startBrowser } from "../test/helpers/browser.ts";
import { BUN, ROOT, startServerProcess } from "../test/helpers/server-process.ts";

const out = process.argv[2] ?? join(ROOT, "docs/dashboard.png");
/** Each group: certificate lifetime, devices created, how many of them provisioned, how many revoked. */
const FLEET = [
  { group: "room2-lights", validity: "30d", created: 1_200, provisioned: 1_100, revoked: 6 },
  { group: "factory-batch", validity: "30d", created: 20_000, provisioned: 2_400, revoked: 0 },
  { group: "gateways", validity: "20h", created: 40, provisioned: 38, revoked: 1 },
  { group: "soil-sensors", validity: "5d", created: 300, provisioned: 260, revoked: 2 },
  { group: "spare-parts", validity: "30d", created: 500, provisioned: 0, revoked: 0 },
];

const server = await startServerProcess({
  tls: true,
  args: ["--mqtt-listen", "127.0.0.1:0", "--issue-rate", "0"],
});
const work = mkdtempSync(join(tmpdir(), "iota-screenshot-"));
const agents: ChildProcess[] = [];
try {
  for (const spec of FLEET) {
    const { provisioningSecret: secret } = (await server.admin(
      "POST",
      "/v1/groups",
      { name: spec.group, validity: spec.validity },
      201,
    )) as { provisioningSecret: string };
    const names = Array.from({ length: spec.created }, (_, i) => `device-${i + 1}`);
    await server.admin("POST", `/v1/groups/${spec.group}/devices`, { names }, 200);
    // The first two devices of the first group run iotad (online); the others are provisioned from here.
    const runs = spec === FLEET[0] ? names.slice(0, 2) : [];
    for (const device of runs) agents.push(runAgent(spec.group, device, secret));
    const provisioned = names.slice(runs.length, spec.provisioned);
    for (let i = 0; i < provisioned.length; i += 32)
      await Promise.all(provisioned.slice(i, i + 32).map((d) => provision(spec.group, d, secret)));
    // The revoked ones are the last provisioned, so the devices iotad runs stay online.
    for (const device of provisioned.slice(provisioned.length - spec.revoked))
      await server.admin(
        "POST",
        `/v1/groups/${spec.group}/devices/${device}/revoke`,
        undefined,
        200,
      );
  }
  await Bun.sleep(3_000);
  const browser = await startBrowser(server.url, server.serverCaPem);
  const page = await browser.newPage(1280, 900);
  await page.goto(`${server.url}/ui/`);
  await page.getByLabel("Admin token").fill(server.token());
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: "Fleet overview" }).waitFor();
  await page.evaluate(() => (document.activeElement as HTMLElement | null)?.blur());
  await page.screenshot({ path: out, fullPage: true });
  await browser.close();
  process.stderr.write(`wrote ${out}\n`);
} finally {
  for (const agent of agents) agent.kill("SIGTERM");
  await server.stop();
  rmSync(work, { recursive: true, force: true });
}

async function provision(group: string, device: string, secret: string): Promise<void> {
  const keys = await generateDeviceKey();
  const body = { group, device, csr: await createCsrPem(keys, device) };
  const token = deviceToken(secret, group, device);
  const res = await server.fetch("/v1/provision", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ ...body, token }),
  });
  if (res.status !== 201) throw new Error(`provision ${group}/${device}: ${await res.text()}`);
}

function runAgent(group: string, device: string, secret: string): ChildProcess {
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
      mqtt: { url: server.brokerUrl, ca: server.serverCaPem },
    }),
  );
  return spawn(BUN, [join(ROOT, "src/iotad/main.ts"), "run", "--config", config], {
    stdio: "ignore",
  });
}
