import { describe, expect, test } from "bun:test";
import { parseServerConfig, type ServerConfig } from "./config.ts";

const parse = (argv: string[], env: Record<string, string> = {}) =>
  parseServerConfig(argv, env) as ServerConfig;

describe("iota-server fleet options", () => {
  test("off unless given", () => {
    const o = parse([]);
    expect([o.mqttWatch, o.metricsListen, o.metricsGroups]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });

  test("--mqtt-watch: mqtts only, port 8883 by default, with an optional CA file; flags or IOTA_*", () => {
    expect(parse(["--mqtt-watch", "mqtts://broker.example"]).mqttWatch).toEqual({
      url: "mqtts://broker.example:8883",
      host: "broker.example",
      port: 8883,
    });
    const o = parse([], {
      IOTA_MQTT_WATCH: "mqtts://[::1]:18883",
      IOTA_MQTT_WATCH_CA: "/etc/ca.pem",
      IOTA_METRICS_LISTEN: "10.0.0.5:9464",
      IOTA_METRICS_GROUPS: "20",
    });
    expect(o.mqttWatch).toEqual({
      url: "mqtts://[::1]:18883",
      host: "::1",
      port: 18883,
      caFile: "/etc/ca.pem",
    });
    expect(o.metricsListen).toEqual({ host: "10.0.0.5", port: 9464 });
    expect(o.metricsGroups).toBe(20);
  });

  test.each([
    [["--mqtt-watch", "mqtt://broker"], "must start with mqtts://"],
    [["--mqtt-watch", "broker:8883"], "must start with mqtts://"],
    [["--mqtt-watch", "mqtts://u:p@broker"], "takes only mqtts://HOST[:PORT]"],
    [["--mqtt-watch", "mqtts://broker/iota"], "takes only mqtts://HOST[:PORT]"],
    [["--mqtt-watch-ca", "ca.pem"], "give --mqtt-watch too"],
    [["--metrics-listen", "9464"], "--metrics-listen must be HOST:PORT"],
    [["--metrics-groups", "0"], "--metrics-groups must be a whole number from 1 to 10000"],
    [["--metrics-groups", "many"], "--metrics-groups must be a whole number"],
  ])("%p is refused naming what was wrong", (argv, message) => {
    expect(() => parseServerConfig(argv, {})).toThrow(message);
  });
});
