/** The compiled iotad with its clock far off (libfaketime: 1970-01-02, a year ahead): it provisions, shows the skew, schedules by the service's time and renews. */

import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deviceToken } from "../../src/core/token.ts";
import {
  buildCompiledAgent,
  fakeClockEnv,
  startCompiledAgent,
  writeAgentConfig,
} from "./agent-process.ts";
import { startServerProcess, type ServerProcess } from "../helpers/server-process.ts";

const tmp = mkdtempSync(join(tmpdir(), "iotad-clock-"));
let bin = "";
let server: ServerProcess;
let secret = "";

beforeAll(async () => {
  fakeClockEnv("+0"); // Hint: fails at once, naming the package, when libfaketime is missing.
  bin = buildCompiledAgent(tmp);
  server = await startServerProcess({ tls: true, data: join(tmp, "server") });
  secret = (
    (await server.adminCall("POST", "/v1/groups", { name: "clock", validity: "1m" })).json as {
      provisioningSecret: string;
    }
  ).provisioningSecret;
}, 120_000);

afterAll(async () => {
  await server?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

for (const [name, spec, sign] of [
  ["1970-01-02", "@1970-01-02 00:00:00", -1],
  ["a year ahead", "+365d", 1],
] as const) {
  test(`device clock at ${name}: provisions, reports the skew, plans the renewal inside the certificate's lifetime, renews, and renews again after a restart`, async () => {
    const device = `dev-${sign > 0 ? "ahead" : "behind"}`;
    expect(
      (await server.adminCall("POST", "/v1/groups/clock/devices", { name: device })).status,
    ).toBe(201);
    const config = writeAgentConfig(tmp, device, {
      server: server.url,
      serverCa: server.serverCaPem,
      group: "clock",
      device,
      token: deviceToken(secret, "clock", device),
      dataDir: join(tmp, `data-${device}`),
    });
    const agent = startCompiledAgent(bin, config, [], fakeClockEnv(spec));
    try {
      const s = await agent.until((x) => x.state === "ready", "provisioning");
      // The faked clock reached Bun's Date.now() in the compiled binary: its log lines carry the fake time, and the skew is -57 years or +1 year.
      expect(agent.log()).toContain(
        sign < 0 ? "1970-01-02T" : String(new Date().getUTCFullYear() + 1),
      );
      const skew = Number(s.clockSkewMs);
      expect(Math.sign(skew)).toBe(-sign);
      expect(Math.abs(skew)).toBeGreaterThan(300 * 86_400_000);
      const notBefore = Date.parse(String(s.notBefore));
      const notAfter = Date.parse(String(s.notAfter));
      const next = Date.parse(String(s.nextRenewal));
      expect(Math.abs(notAfter - Date.now())).toBeLessThan(5 * 60_000);
      expect(next).toBeGreaterThan(notBefore);
      expect(next).toBeLessThan(notAfter);
      expect(s.certificateValid).toBe(true);
      // The 1-minute certificate is renewed on schedule (by the service's clock) well before it runs out.
      // Hint: a 1-minute certificate's first renewal may come within seconds of provisioning; count from what was seen.
      const renewed = await agent.until(
        (x) => x.renewals > s.renewals && x.state === "ready",
        "the scheduled renewal",
        90_000,
      );
      expect(renewed.serial).not.toBe(s.serial);
      expect(renewed.lastError).toBeNull();
    } finally {
      await agent.stop();
    }
    // A reboot with the clock still wrong: the skew is unknown until the first answer (a proof signed by the wrong
    // clock is rejected once, then signed by the service's time), and the renewal still goes through by itself.
    const again = startCompiledAgent(bin, config, [], fakeClockEnv(spec));
    try {
      const s = await again.until(
        (x) => x.renewals >= 1 && x.state === "ready",
        "a renewal after the restart",
        90_000,
      );
      expect(s.certificateValid).toBe(true);
    } finally {
      await again.stop();
    }
  }, 240_000);
}
