import { describe, expect, test } from "bun:test";
import { loadSettings } from "./settings.ts";

const files: Record<string, string> = {};
const read = (path: string) => {
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
  return text;
};
const base = {
  server: "https://iota.example.com",
  group: "room2-lights",
  device: "test-device-123",
};

function load(config: unknown) {
  files["/etc/iotad/config.json"] = typeof config === "string" ? config : JSON.stringify(config);
  return loadSettings("/etc/iotad/config.json", read, "/");
}

describe("config file", () => {
  test("a valid file gets defaults and resolves relative paths beside the config", () => {
    files["/etc/iotad/token"] = "tok\n";
    const result = load({ ...base, tokenFile: "token", dataDir: "data" });
    if (!result.ok) throw new Error(result.errors.join("\n"));
    expect(result.settings.credential).toEqual({ kind: "token", value: "tok" });
    expect(result.settings.dataDir).toBe("/etc/iotad/data");
    expect(result.settings.statusListen).toEqual({ host: "127.0.0.1", port: 7780 });
    expect(result.settings.renewal).toEqual({ fraction: 2 / 3, jitter: 1 / 20, spreadFirst: true });
  });

  test.each([
    [{ ...base, token: "t", mqtt: { url: "ftp://x" } }, 'field "mqtt.url"', "mqtts://"],
    [{ ...base, token: "t", grup: "x" }, 'field "grup"', "not a known field"],
    [{ server: base.server, device: base.device, token: "t" }, 'field "group"', "is required"],
    [{ ...base, device: "Bad_Name", token: "t" }, 'field "device"', "uppercase"],
    [{ ...base }, "the top level", "exactly one of token, secret, tokenFile, secretFile"],
    [{ ...base, token: "t", renewal: { fraction: 2 } }, 'field "renewal.fraction"', "at most 0.95"],
    [
      { ...base, token: "t", statusListen: "127.0.0.1:99999" },
      'field "statusListen"',
      "0 to 65535",
    ],
    [{ ...base, tokenFile: "missing" }, 'field "tokenFile"', "/etc/iotad/missing: no such file"],
    [
      { ...base, token: "t", mqtt: { url: "mqtts://b:8883", caFile: "/nope.pem" } },
      'field "mqtt.caFile"',
      "no such file",
    ],
    ["{ not json", "is not valid JSON", ""],
  ])("names the file, the field and what was expected (%#)", (config, field, expected) => {
    const result = load(config);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.errors.join("\n");
    expect(text).toContain("/etc/iotad/config.json: ");
    expect(text).toContain(field);
    expect(text).toContain(expected);
  });

  test("a missing config file is named", () => {
    const result = loadSettings("/nowhere/config.json", read, "/");
    expect(result.ok ? "" : result.errors.join()).toBe(
      "/nowhere/config.json: cannot read the config file: no such file",
    );
  });

  test("errors never echo the secret", () => {
    const result = load({ ...base, secret: "TOPSECRETVALUE", token: "ANOTHERSECRET" });
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain("TOPSECRETVALUE");
  });
});
