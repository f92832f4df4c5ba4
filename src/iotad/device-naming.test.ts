import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { nameDevice, namingWarning } from "./device-naming.ts";
import { nodeDisk } from "./disk.ts";
import { readPinnedName, writePin } from "./device-pin.ts";
import { loadSettings } from "./config.ts";

const tmp = mkdtempSync(join(tmpdir(), "iotad-naming-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const read = (path: string) => readFileSync(path, "utf8");
let n = 0;

/** A fresh host: a sysfs folder, an /etc, a data folder. */
function host() {
  const root = join(tmp, `host-${++n}`);
  const sysfs = join(root, "sys");
  const put = (path: string, text: string) => {
    mkdirSync(join(path, ".."), { recursive: true });
    writeFileSync(path, text);
  };
  return { root, sysfs, data: join(root, "data"), put, paths: { sysfs } };
}

describe("naming a device from its hardware", () => {
  test("file: the first line, trimmed and normalised; relative paths from the config's folder", () => {
    const h = host();
    h.put(join(h.root, "etc/machine-id"), "0F3A9C12D45E4B7F9A1C2D3E4F5A6B7C\n");
    const named = nameDevice(
      { from: "file:etc/machine-id", prefix: "dev-" },
      read,
      h.root,
      h.paths,
      h.data,
    );
    expect(named).toEqual({
      ok: true,
      name: "dev-0f3a9c12d45e4b7f9a1c2d3e4f5a6b7c",
      naming: {
        from: "file:etc/machine-id",
        prefix: "dev-",
        resolved: "dev-0f3a9c12d45e4b7f9a1c2d3e4f5a6b7c",
        problem: null,
        pinned: null,
      },
    });
  });

  test("mac: the interface's address from sysfs; a random address is refused", () => {
    const h = host();
    h.put(join(h.sysfs, "class/net/eth0/address"), "aa:bb:cc:00:11:22\n");
    h.put(join(h.sysfs, "class/net/eth0/addr_assign_type"), "0\n");
    h.put(join(h.sysfs, "class/net/wlan0/address"), "3a:bb:cc:00:11:22\n");
    h.put(join(h.sysfs, "class/net/wlan0/addr_assign_type"), "1\n");
    const eth0 = nameDevice({ from: "mac:eth0", prefix: "" }, read, h.root, h.paths, h.data);
    expect(eth0.ok && eth0.name).toBe("aa-bb-cc-00-11-22");
    const wlan0 = nameDevice({ from: "mac:wlan0", prefix: "" }, read, h.root, h.paths, h.data);
    expect(wlan0.ok).toBe(false);
    if (!wlan0.ok) expect(wlan0.problem).toContain("random (addr_assign_type 1)");
    const none = nameDevice({ from: "mac:eth9", prefix: "" }, read, h.root, h.paths, h.data);
    if (none.ok) throw new Error("eth9 does not exist");
    expect(none.problem).toContain("mac:eth9 gives no device name");
    expect(none.problem).toContain("is there an interface eth9?");
  });

  test("dmi: the identifier from sysfs; placeholders and root-only files are clear errors", () => {
    const h = host();
    h.put(join(h.sysfs, "class/dmi/id/product_serial"), "PF2XK9QA\n");
    h.put(join(h.sysfs, "class/dmi/id/board_serial"), "Default string\n");
    const serial = nameDevice(
      { from: "dmi:product_serial", prefix: "pc-" },
      read,
      h.root,
      h.paths,
      h.data,
    );
    expect(serial.ok && serial.name).toBe("pc-pf2xk9qa");
    const board = nameDevice(
      { from: "dmi:board_serial", prefix: "" },
      read,
      h.root,
      h.paths,
      h.data,
    );
    expect(board.ok).toBe(false);
    if (!board.ok) expect(board.problem).toContain('"Default string" is a vendor\'s placeholder');
    const denied = () => {
      throw Object.assign(new Error("EACCES"), { code: "EACCES" });
    };
    const root = nameDevice(
      { from: "dmi:product_serial", prefix: "" },
      denied,
      h.root,
      h.paths,
      h.data,
    );
    expect(root.ok).toBe(false);
    if (!root.ok) expect(root.problem).toContain("only root read DMI serials");
  });

  test("once pinned, the pinned name wins and a changed source is reported", () => {
    const h = host();
    h.put(join(h.sysfs, "class/net/eth0/address"), "aa:bb:cc:00:11:22\n");
    mkdirSync(h.data, { recursive: true });
    expect(
      writePin(nodeDisk(), h.data, { group: "g", device: "aa-bb-cc-00-11-22", from: "mac:eth0" }),
    ).toBe(true);
    expect(
      writePin(nodeDisk(), h.data, { group: "g", device: "aa-bb-cc-00-11-22", from: "mac:eth0" }),
    ).toBe(false);
    expect(readPinnedName(read, h.data)).toBe("aa-bb-cc-00-11-22");
    // The NIC is swapped.
    h.put(join(h.sysfs, "class/net/eth0/address"), "aa:bb:cc:99:99:99\n");
    const named = nameDevice({ from: "mac:eth0", prefix: "" }, read, h.root, h.paths, h.data);
    if (!named.ok) throw new Error(named.problem);
    expect(named.name).toBe("aa-bb-cc-00-11-22");
    expect(named.naming.resolved).toBe("aa-bb-cc-99-99-99");
    const warning = namingWarning(named.naming) ?? "";
    expect(warning).toContain("now gives aa-bb-cc-99-99-99");
    expect(warning).toContain("provisioned as aa-bb-cc-00-11-22: it stays aa-bb-cc-00-11-22");
    // The NIC is gone: still the same device.
    rmSync(join(h.sysfs, "class/net/eth0"), { recursive: true });
    const gone = nameDevice({ from: "mac:eth0", prefix: "" }, read, h.root, h.paths, h.data);
    expect(gone.ok && gone.name).toBe("aa-bb-cc-00-11-22");
    if (gone.ok) expect(namingWarning(gone.naming)).toContain("gives no name now");
  });

  test("the config: a source is resolved; no name at all is exit-2 material naming the field and the source", () => {
    const h = host();
    const config = join(h.root, "config.json");
    const write = (device: unknown) =>
      h.put(
        config,
        JSON.stringify({
          server: "https://iota.example.com",
          group: "g",
          device,
          secret: "s",
          dataDir: "data",
        }),
      );
    h.put(join(h.root, "serial"), "SN-0042\n");
    write({ from: "file:serial", prefix: "dev-" });
    const loaded = loadSettings(config, read, "/", h.paths);
    if (!loaded.ok) throw new Error(loaded.errors.join("\n"));
    expect(loaded.settings.device).toBe("dev-sn-0042");
    expect(loaded.settings.naming?.from).toBe("file:serial");
    h.put(join(h.root, "serial"), "\n");
    const empty = loadSettings(config, read, "/", h.paths);
    expect(empty.ok).toBe(false);
    if (!empty.ok)
      expect(empty.errors.join("\n")).toBe(
        `${config}: field "device.from": file:serial gives no device name: the value is empty`,
      );
    write({ from: "command:hostname" });
    const command = loadSettings(config, read, "/", h.paths);
    expect(command.ok ? "" : command.errors.join()).toContain(
      'field "device.from": command: sources are not supported',
    );
  });
});
