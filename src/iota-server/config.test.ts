import { describe, expect, test } from "bun:test";
import { parseServerOptions, type ServerOptions } from "./config.ts";

const parse = (argv: string[], env: Record<string, string> = {}) =>
  parseServerOptions(argv, env) as ServerOptions;

describe("iota-server options", () => {
  test("defaults: ./.iota, 127.0.0.1:8440, SQLite inside the data folder, no broker, no proxies", () => {
    const o = parse([]);
    expect(o.data.endsWith("/.iota")).toBe(true);
    expect(o.listen).toEqual({ host: "127.0.0.1", port: 8440 });
    expect(o.db).toBe(`sqlite:${o.data}/iota.db`);
    expect(o.mqttListen).toBeUndefined();
    expect(o.trustProxy).toBeUndefined();
  });

  test("flags win over IOTA_* variables, which win over defaults", () => {
    const o = parse(["--listen", "0.0.0.0:9000"], {
      IOTA_LISTEN: "127.0.0.1:1",
      IOTA_DB: "postgres://db/iota",
      IOTA_TRUST_PROXY: "10.0.0.2, 10.0.0.3",
    });
    expect(o.listen).toEqual({ host: "0.0.0.0", port: 9000 });
    expect(o.db).toBe("postgres://db/iota");
    expect(o.trustProxy).toEqual(["10.0.0.2", "10.0.0.3"]);
    expect(parse(["--trust-proxy", "::1"]).trustProxy).toEqual(["::1"]);
  });

  test.each([
    [["--listen", "8440"], "--listen must be HOST:PORT"],
    [["--listen", "h:70000"], "--listen must be HOST:PORT"],
    [["--db", "mysql://x"], "--db must start with sqlite: or postgres://"],
    [["--trust-proxy", "10.0.0.2,lb.example"], '"lb.example" is not one'],
    [["--trust-proxy", ","], "needs at least one IP address"],
    [["--bogus"], "bogus"],
  ])("%p is refused naming what was wrong", (argv, message) => {
    expect(() => parseServerOptions(argv, {})).toThrow(message);
  });
});
