import { describe, expect, test } from "bun:test";
import { parseServerConfig, type ServerConfig } from "./config.ts";

const parse = (argv: string[], env: Record<string, string> = {}) =>
  parseServerConfig(argv, env) as ServerConfig;

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
    expect(() => parseServerConfig(argv, {})).toThrow(message);
  });
});

describe("transport and issue limit flags", () => {
  test("HTTPS with the service's own trust by default; --hostname repeats; IOTA_HOSTNAME takes a list", () => {
    expect(parse([]).tls).toEqual({ kind: "self", hostnames: [] });
    expect(parse(["--hostname", "iota.example.com", "--hostname", "10.0.0.5"]).tls).toEqual({
      kind: "self",
      hostnames: ["iota.example.com", "10.0.0.5"],
    });
    expect(parse([], { IOTA_HOSTNAME: "a.example, b.example" }).tls).toEqual({
      kind: "self",
      hostnames: ["a.example", "b.example"],
    });
  });

  test("--tls-cert with --tls-key, or --plain-http (also from IOTA_*)", () => {
    const operator = parse(["--tls-cert", "c.pem", "--tls-key", "k.pem"]).tls;
    expect(operator.kind).toBe("operator");
    if (operator.kind === "operator") expect(operator.certFile).toEndWith("/c.pem");
    expect(parse([], { IOTA_TLS_CERT: "c", IOTA_TLS_KEY: "k" }).tls.kind).toBe("operator");
    expect(parse(["--plain-http"]).tls).toEqual({ kind: "plain" });
    expect(parse([], { IOTA_PLAIN_HTTP: "1" }).tls).toEqual({ kind: "plain" });
    expect(parse([], { IOTA_PLAIN_HTTP: "0" }).tls.kind).toBe("self");
  });

  test("--issue-rate and --issue-burst: defaults 100 and 2,000; 0 lifts the limit", () => {
    expect(parse([]).issueRate).toEqual({ rate: 100, burst: 2000 });
    expect(parse(["--issue-rate", "0"]).issueRate).toEqual({ rate: 0, burst: 2000 });
    expect(parse([], { IOTA_ISSUE_RATE: "500", IOTA_ISSUE_BURST: "10000" }).issueRate).toEqual({
      rate: 500,
      burst: 10000,
    });
  });

  test.each([
    [["--plain-http", "--tls-cert", "c"], "exclude each other"],
    [["--tls-cert", "c"], "--tls-cert needs --tls-key"],
    [["--tls-key", "k"], "--tls-key needs --tls-cert"],
    [["--plain-http", "--hostname", "h"], "--plain-http serves none"],
    [["--tls-cert", "c", "--tls-key", "k", "--hostname", "h"], "with --tls-cert the names"],
    [["--hostname", "not a name"], "is neither"],
    [["--issue-rate=-1"], "--issue-rate must be a whole number"],
    [["--issue-rate", "fast"], "--issue-rate must be a whole number"],
    [["--issue-burst", "0"], "--issue-burst must be at least 1"],
  ])("%p is refused naming what was wrong", (argv, message) => {
    expect(() => parseServerConfig(argv, {})).toThrow(message);
  });

  test("a bad IOTA_PLAIN_HTTP is refused, not taken as false", () => {
    expect(() => parseServerConfig([], { IOTA_PLAIN_HTTP: "maybe" })).toThrow("IOTA_PLAIN_HTTP");
  });
});
