import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestService, type TestService } from "../helpers/test-service.ts";
import { Agent } from "../../src/iotad/agent.ts";
import type { AttemptResult } from "../../src/iotad/agent-state.ts";
import { type Disk, nodeDisk } from "../../src/iotad/disk.ts";
import { keyMatches, parseCertificate } from "../../src/iotad/identity.ts";
import { IdentityStore } from "../../src/iotad/identity-store.ts";
import { memoryLogger } from "../../src/iotad/logger.ts";
import { ServerClock } from "../../src/iotad/server-clock.ts";
import { ServiceClient } from "../../src/iotad/service-client.ts";
import { appTransport, eventually, FakeClock } from "../helpers/agent-support.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A disk that loses power before its `at`-th state-changing operation (write, rename, remove). */
function crashingDisk(at: number): Disk & { crashed: boolean } {
  const real = nodeDisk();
  let count = 0;
  const disk = {
    ...real,
    crashed: false,
    writeSynced: (path: string, text: string, mode: number) =>
      step(() => real.writeSynced(path, text, mode)),
    rename: (from: string, to: string) => step(() => real.rename(from, to)),
    remove: (path: string) => step(() => real.remove(path)),
  };
  function step(op: () => void) {
    if (count++ === at) {
      disk.crashed = true;
      throw new Error("power cut");
    }
    op();
  }
  return disk;
}

/** A disk that is full (ENOSPC) at its `at`-th write (each temp file written), until `heal()`; renames and removes still work. */
function fullDisk(at: number): Disk & { failed: boolean; heal(): void } {
  const real = nodeDisk();
  let count = 0;
  let healed = false;
  const disk = {
    ...real,
    failed: false,
    heal: () => {
      healed = true;
    },
    writeSynced: (path: string, text: string, mode: number) => {
      if (!healed && count++ >= at) {
        disk.failed = true;
        // A full disk may still have created (and truncated) the temp file before failing.
        real.writeSynced(path, text.slice(0, 10), mode);
        throw Object.assign(new Error(`ENOSPC: no space left on device, write '${path}'`), {
          code: "ENOSPC",
        });
      }
      real.writeSynced(path, text, mode);
    },
  };
  return disk;
}

function agentOn(
  service: TestService,
  disk: Disk,
  dir: string,
  device: string,
  secret: string,
  clock = new FakeClock(Date.now()),
): Agent {
  const serverClock = new ServerClock(() => clock.now());
  const client = new ServiceClient("http://service", appTransport(service.app), serverClock, () =>
    clock.now(),
  );
  return new Agent({
    settings: {
      group: "line1",
      device,
      credential: { kind: "secret", value: secret },
      renewal: { fraction: 2 / 3, jitter: 1 / 20, spreadFirst: true },
    },
    store: new IdentityStore(disk, dir),
    service: client,
    serverClock,
    clock,
    random: () => 0.5,
    log: memoryLogger(),
  });
}

/** Asserts the data folder holds a key and a certificate that match, and that the service knows that certificate. */
async function expectMatchingPair(
  service: TestService,
  dir: string,
  device: string,
): Promise<string> {
  const disk = nodeDisk();
  const store = new IdentityStore(disk, dir);
  const cert = parseCertificate(disk.read(store.paths.cert) ?? "");
  expect(cert).toBeDefined();
  expect(await keyMatches(disk.read(store.paths.key) ?? "", cert as NonNullable<typeof cert>)).toBe(
    true,
  );
  const view = (await (await service.call("GET", `/v1/groups/line1/devices/${device}`)).json()) as {
    serial: string;
  };
  expect(view.serial).toBe(cert?.serialNumber.toLowerCase() as string);
  return view.serial;
}

describe("identity store crash safety", async () => {
  const service = await createTestService();
  const secret = (
    (await (await service.call("POST", "/v1/groups", { name: "line1" })).json()) as {
      provisioningSecret: string;
    }
  ).provisioningSecret;

  test("a power cut before any step of provisioning leaves a state from which the device provisions with a matching pair", async () => {
    let crashes = 0;
    for (let at = 0; ; at++) {
      const device = `prov-${at}`;
      await service.call("POST", "/v1/groups/line1/devices", { name: device });
      const dir = mkdtempSync(join(tmpdir(), "iotad-crash-"));
      dirs.push(dir);
      const disk = crashingDisk(at);
      const first: AttemptResult = await agentOn(
        service,
        disk,
        dir,
        device,
        secret,
      ).provisionOnce();
      if (!disk.crashed) {
        expect(first.ok).toBe(true);
        break;
      }
      crashes++;
      // Hint: no assertion on `first`: a real power cut ends the process, so what the call returned is never seen.
      // Power back: a new process on the same folder.
      const again = await agentOn(service, nodeDisk(), dir, device, secret).provisionOnce();
      expect(again.ok).toBe(true);
      if (again.ok) expect(again.identity.first).toBe(true);
      await expectMatchingPair(service, dir, device);
    }
    expect(crashes).toBeGreaterThanOrEqual(8);
  });

  test("a power cut at any step of a renewal keeps the old pair or installs the new one, never a mix", async () => {
    let crashes = 0;
    for (let at = 0; ; at++) {
      const device = `renew-${at}`;
      await service.call("POST", "/v1/groups/line1/devices", { name: device });
      const dir = mkdtempSync(join(tmpdir(), "iotad-crash-"));
      dirs.push(dir);
      expect((await agentOn(service, nodeDisk(), dir, device, secret).provisionOnce()).ok).toBe(
        true,
      );
      const oldSerial = await expectMatchingPair(service, dir, device);
      const disk = crashingDisk(at);
      const result = await agentOn(service, disk, dir, device, secret).renewOnce();
      if (!disk.crashed) {
        expect(result.ok).toBe(true);
        break;
      }
      crashes++;
      const recovered = await new IdentityStore(nodeDisk(), dir).recover();
      expect(recovered.kind).toBe("held");
      // The service may already have issued the new certificate; the retry must get it with the saved pending key.
      const again = await agentOn(service, nodeDisk(), dir, device, secret).renewOnce();
      expect(again.ok).toBe(true);
      if (again.ok) expect(again.identity.first).toBe(false);
      const newSerial = await expectMatchingPair(service, dir, device);
      expect(newSerial).not.toBe(oldSerial);
    }
    expect(crashes).toBeGreaterThanOrEqual(8);
  });

  test("a full disk at any write of a renewal keeps the old pair in use; the agent reports it, retries, and renews once space is back", async () => {
    let failures = 0;
    for (let at = 0; ; at++) {
      const device = `full-${at}`;
      await service.call("POST", "/v1/groups/line1/devices", { name: device });
      const dir = mkdtempSync(join(tmpdir(), "iotad-full-"));
      dirs.push(dir);
      expect((await agentOn(service, nodeDisk(), dir, device, secret).provisionOnce()).ok).toBe(
        true,
      );
      const oldSerial = await expectMatchingPair(service, dir, device);
      const disk = fullDisk(at);
      const clock = new FakeClock(Date.now());
      const agent = agentOn(service, disk, dir, device, secret, clock);
      await agent.start();
      agent.renewNow();
      await eventually(
        () => agent.snapshot().renewals + agent.snapshot().renewalFailures === 1,
        "the renewal attempt",
      );
      if (agent.snapshot().renewals === 1) {
        // Nothing failed, or only the meta file (written after the swap): the new pair is on disk and in use.
        expect(await expectMatchingPair(service, dir, device)).toBe(
          agent.heldIdentity()?.serial as string,
        );
        await agent.stop();
        if (!disk.failed) break;
        continue;
      }
      failures++;
      const s = agent.snapshot();
      expect(s.state).toBe("renewing");
      expect(s.serial).toBe(oldSerial);
      expect(agent.heldIdentity()?.serial).toBe(oldSerial);
      expect(s.lastError).toContain("ENOSPC");
      expect(s.nextRenewal).not.toBeNull();
      // What is on disk is still a matching pair (the old one, or the new one with its key still pending).
      const onDisk = await new IdentityStore(nodeDisk(), dir).recover();
      expect(onDisk.kind).toBe("held");
      disk.heal();
      clock.advance(Date.parse(s.nextRenewal ?? "") - clock.now());
      await eventually(() => agent.snapshot().renewals === 1, "the renewal once space is back");
      expect(agent.heldIdentity()?.serial).not.toBe(oldSerial);
      expect(await expectMatchingPair(service, dir, device)).toBe(
        agent.heldIdentity()?.serial as string,
      );
      await agent.stop();
    }
    // The pending key, the CA, the certificate.
    expect(failures).toBeGreaterThanOrEqual(3);
  });

  test("the data folder is 0700 and the key and certificate 0600", async () => {
    await service.call("POST", "/v1/groups/line1/devices", { name: "modes" });
    const dir = join(mkdtempSync(join(tmpdir(), "iotad-modes-")), "data");
    dirs.push(dir);
    expect((await agentOn(service, nodeDisk(), dir, "modes", secret).provisionOnce()).ok).toBe(
      true,
    );
    const store = new IdentityStore(nodeDisk(), dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(store.paths.key).mode & 0o777).toBe(0o600);
    expect(statSync(store.paths.cert).mode & 0o777).toBe(0o600);
  });

  test("a certificate whose key is gone is reported, not silently replaced", async () => {
    await service.call("POST", "/v1/groups/line1/devices", { name: "lost-key" });
    const dir = mkdtempSync(join(tmpdir(), "iotad-lost-"));
    dirs.push(dir);
    expect((await agentOn(service, nodeDisk(), dir, "lost-key", secret).provisionOnce()).ok).toBe(
      true,
    );
    const store = new IdentityStore(nodeDisk(), dir);
    rmSync(store.paths.key);
    const recovered = await store.recover();
    expect(recovered.kind).toBe("broken");
    if (recovered.kind === "broken") expect(recovered.reason).toContain("key.pem");
  });
});
