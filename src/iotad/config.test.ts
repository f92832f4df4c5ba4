import { describe, expect, test } from "bun:test";
import { loadSettings } from "./config.ts";

const files: Record<string, string> = {};
const read = (path: string) => {
  const text = files[path];
  if (text === undefined) throw Object.assign(new Error("ENOENT"), { code: "ENOENT" });
  return text;
};
const HOST = { sysfs: "/sys-of-this-test" };
const base = {
  server: "https://iota.example.com",
  group: "room2-lights",
  device: "test-device-123",
};

function load(config: unknown) {
  files["/etc/iotad/config.json"] = typeof config === "string" ? config : JSON.stringify(config);
  return loadSettings("/etc/iotad/config.json", read, "/", HOST);
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
      { ...base, token: "t", renewal: { fraction: 0.3, jitter: 0.25 } },
      'field "renewal.jitter"',
      "must be at most renewal.fraction - 0.1",
    ],
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
    ["{ not json", "is not valid JSON at line 1, column 3: ", ""],
    [
      '{\n  "server": "https://x",\n  "group": "g"\n  "device": "d"\n}',
      "is not valid JSON at line 4, column 3",
      "",
    ],
  ])("names the file, the field and what was expected (%#)", (config, field, expected) => {
    const result = load(config);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.errors.join("\n");
    expect(text).toContain("/etc/iotad/config.json: ");
    expect(text).toContain(field);
    expect(text).toContain(expected);
  });

  test.each([
    ["http://iota.example.com"],
    ["http://10.0.0.5:8440"],
    ["http://[fe80::1]:8440"],
    ["http://127.example.com"],
  ])("plain http to %p is refused, naming the server field, the risk and the way out", (server) => {
    const result = load({ ...base, server, token: "t" });
    expect(result.ok).toBe(false);
    const text = result.ok ? "" : result.errors.join("\n");
    expect(text).toContain('/etc/iotad/config.json: field "server": http:// is allowed only');
    expect(text).toContain("clear text");
    expect(text).toContain('"insecureHttp": true');
  });

  test.each([
    ["http://127.0.0.1:8440"],
    ["http://127.1.2.3"],
    ["http://localhost:8440"],
    ["http://[::1]:8440"],
    ["https://iota.example.com"],
  ])("%p needs no insecureHttp", (server) => {
    const result = load({ ...base, server, token: "t" });
    expect(result.ok ? result.settings.insecureHttp : result.errors).toBe(false);
  });

  test('"insecureHttp": true allows plain http beyond loopback; it must be a boolean', () => {
    const result = load({
      ...base,
      server: "http://10.0.0.5:8440",
      token: "t",
      insecureHttp: true,
    });
    expect(result.ok && result.settings.insecureHttp).toBe(true);
    const wrong = load({ ...base, token: "t", insecureHttp: "yes" });
    expect(wrong.ok ? "" : wrong.errors.join()).toContain(
      'field "insecureHttp": must be true or false',
    );
  });

  test("MQTT trust: mqtt.ca or mqtt.caFile when given, else serverCa, else none (the system roots)", () => {
    const pem = (name: string) =>
      `-----BEGIN CERTIFICATE-----\n${name}\n-----END CERTIFICATE-----\n`;
    files["/etc/iotad/broker.pem"] = pem("broker-file");
    const mqtt = (m: Record<string, string>, serverCa?: string) => {
      const result = load({
        ...base,
        token: "t",
        ...(serverCa ? { serverCa } : {}),
        mqtt: { url: "mqtts://b:8883", ...m },
      });
      if (!result.ok) throw new Error(result.errors.join("\n"));
      return result.settings;
    };
    expect(mqtt({}, pem("server")).mqtt?.ca).toBe(pem("server"));
    expect(mqtt({}, pem("server")).serverCa).toBe(pem("server"));
    expect(mqtt({ ca: pem("broker") }, pem("server")).mqtt?.ca).toBe(pem("broker"));
    expect(mqtt({ caFile: "broker.pem" }, pem("server")).mqtt?.ca).toBe(pem("broker-file").trim());
    expect(mqtt({}).mqtt?.ca).toBeUndefined();
    expect(mqtt({}).serverCa).toBeUndefined();
  });

  test("a missing config file is named", () => {
    const result = loadSettings("/nowhere/config.json", read, "/", HOST);
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
