/** The seed document's two shell scripts, run verbatim with `sh` against a real server and a compiled iotactl. */

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { DeviceView, Page } from "../src/core/wire.ts";
import { createCsrPem, generateDeviceKey } from "../src/core/csr.ts";
import { ROOT, apiGet, buildIotactl, run, tempDir } from "./iotactl-support.ts";
import { startServerProcess, type ServerProcess } from "./helpers/server-process.ts";

let server: ServerProcess;
let dir: string;
let env: Record<string, string>;

beforeAll(async () => {
  dir = tempDir("iota-seed-");
  const bin = await buildIotactl(dir);
  server = await startServerProcess({ tls: true });
  // Hint: the operator's path: pin the server CA by the fingerprint the server printed, then run the scripts as written.
  env = {
    PATH: `${bin}:${process.env.PATH ?? "/usr/bin:/bin"}`,
    XDG_CONFIG_HOME: join(dir, "xdg"),
  };
  const configured = await run(
    [
      join(bin, "iotactl"),
      "configure",
      "--server",
      server.url,
      "--fingerprint",
      server.fingerprint,
      "--token-file",
      join(server.data, "admin-token"),
    ],
    { env, cwd: dir },
  );
  if (configured.code !== 0) throw new Error(`iotactl configure failed: ${configured.stderr}`);
});

afterAll(async () => {
  await server?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** A working folder holding a copy of a seed script. */
function workdir(script: string): string {
  const cwd = tempDir("iota-seed-work-");
  copyFileSync(join(ROOT, "scripts", script), join(cwd, script));
  return cwd;
}

async function allDevices(group: string): Promise<string[]> {
  const page = await apiGet<Page<DeviceView>>(server, `/v1/groups/${group}/devices?limit=1000`);
  return page.items.map((d) => d.name);
}

describe("seed scripts", () => {
  test("the scripts are the user document's, byte for byte, with a real group name", () => {
    const seed = readFileSync("/work/shared/seeds/000_6386bde771278b12.txt", "utf8");
    const blocks = [...seed.matchAll(/```sh\n(#!\/bin\/sh\n[\s\S]*?)```/g)].map((m) =>
      (m[1] ?? "").replace("device_group='<Group Name>'", "device_group='room2-lights'"),
    );
    expect(blocks.length).toBe(2);
    expect(readFileSync(join(ROOT, "scripts/create-numbered-devices.sh"), "utf8")).toBe(
      blocks[0] ?? "",
    );
    expect(readFileSync(join(ROOT, "scripts/create-devices-from-file.sh"), "utf8")).toBe(
      blocks[1] ?? "",
    );
  });

  test("create-numbered-devices.sh: secret file, 100 devices, names file; a re-run stops at 'group exists'", async () => {
    const cwd = workdir("create-numbered-devices.sh");
    const first = await run(["sh", "create-numbered-devices.sh"], { env, cwd });
    expect(first.stderr).not.toContain("iotactl:");
    expect(first.code).toBe(0);

    const secretText = readFileSync(join(cwd, "prov_secret.txt"), "utf8");
    expect(secretText).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    const names = readFileSync(join(cwd, "device_names.txt"), "utf8");
    const expected = Array.from({ length: 100 }, (_, i) => `test-device-${i + 1}`);
    expect(names).toBe(`${expected.join("\n")}\n`);
    expect((await allDevices("room2-lights")).sort()).toEqual([...expected].sort());

    // The captured secret provisions a device.
    const keys = await generateDeviceKey();
    const response = await server.fetch(`/v1/provision`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        group: "room2-lights",
        device: "test-device-7",
        csr: await createCsrPem(keys, "test-device-7"),
        secret: secretText.trim(),
      }),
    });
    expect(response.status).toBe(201);

    const again = await run(["sh", "create-numbered-devices.sh"], { env, cwd });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain('A group named "room2-lights" already exists');
    // set -e stopped the script: no device name was appended, and the redirect emptied the secret file.
    expect(readFileSync(join(cwd, "device_names.txt"), "utf8")).toBe(names);
    expect(readFileSync(join(cwd, "prov_secret.txt"), "utf8")).toBe("");
    rmSync(cwd, { recursive: true, force: true });
  }, 120_000);

  test("create-devices-from-file.sh: creates the devices named in the file; a re-run stops at 'group exists'", async () => {
    const cwd = workdir("create-devices-from-file.sh");
    // A group of its own: the script's group name is the document's example; delete the previous test's group first.
    const del = await server.fetch(`/v1/groups/room2-lights?force=true`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${server.token()}` },
    });
    expect([204, 404]).toContain(del.status);
    const known = ["lamp-a1", "lamp-b2", "sensor-17"];
    // Blank lines are skipped by the script's grep; the last name has no final newline on purpose.
    writeFileSync(join(cwd, "device_names.txt"), `${known[0]}\n\n${known[1]}\n${known[2]}`);
    const first = await run(["sh", "create-devices-from-file.sh"], { env, cwd });
    expect(first.stderr).not.toContain("iotactl:");
    expect(first.code).toBe(0);
    expect(readFileSync(join(cwd, "prov_secret.txt"), "utf8")).toMatch(/^[A-Za-z0-9_-]{43}\n$/);
    expect((await allDevices("room2-lights")).sort()).toEqual(known);

    const again = await run(["sh", "create-devices-from-file.sh"], { env, cwd });
    expect(again.code).not.toBe(0);
    expect(again.stderr).toContain("already exists");
    rmSync(cwd, { recursive: true, force: true });
  }, 120_000);
});
