import { describe, expect, test } from "bun:test";
import {
  VERIFIED_TLS,
  postgresHost,
  postgresOnThisHost,
  postgresTls,
  postgresTransport,
} from "./database-url.ts";

const NO_ENV = {};

describe("postgresOnThisHost", () => {
  test("a unix socket, localhost and loopback addresses are on this machine", () => {
    for (const url of [
      "postgres://iota@localhost/iota",
      "postgres://iota@LOCALHOST:5433/iota",
      "postgres://iota@db.localhost/iota",
      "postgres://iota@127.0.0.1:5432/iota",
      "postgres://iota@127.1.2.3/iota",
      "postgres://iota@[::1]:5432/iota",
      "postgres://iota@/iota?host=/run/postgresql",
      "postgres://iota@%2Frun%2Fpostgresql/iota",
      "postgresql:///iota",
    ])
      expect([url, postgresOnThisHost(url, NO_ENV)]).toEqual([url, true]);
  });

  test("any other host is across a network", () => {
    for (const url of [
      "postgres://iota:pw@db.internal:5432/iota",
      "postgres://iota@10.0.0.5/iota",
      "postgres://iota@[fd00::5]/iota",
      "postgres://iota@128.0.0.1/iota",
      "postgres://iota@localhost.example.com/iota",
      "postgres://iota@[::ffff:7f00:1]/iota",
    ])
      expect([url, postgresOnThisHost(url, NO_ENV)]).toEqual([url, false]);
  });

  test("the host Bun.SQL connects to counts: a host parameter over the URL's host, PGHOST when the URL names none", () => {
    expect(postgresHost("postgres://iota:pw@localhost/iota?host=db.internal", NO_ENV)).toBe(
      "db.internal",
    );
    expect(postgresOnThisHost("postgres://iota:pw@localhost/iota?host=db.internal", NO_ENV)).toBe(
      false,
    );
    expect(postgresOnThisHost("postgresql:///iota", { PGHOST: "db.internal" })).toBe(false);
    expect(postgresOnThisHost("postgres://iota@127.0.0.1/iota", { PGHOST: "db.internal" })).toBe(
      true,
    );
    expect(postgresHost("postgresql:///iota", NO_ENV)).toBe("localhost");
  });
});

describe("postgresTls", () => {
  test("a server across a network is asked for verified TLS when nothing names a mode", () => {
    expect(VERIFIED_TLS).toEqual({ rejectUnauthorized: true });
    for (const url of [
      "postgres://iota:pw@db.internal:5432/iota",
      // Hint: a private CA given in the URL leaves the mode to this default, which then checks against it.
      "postgres://iota@db.internal/iota?sslrootcert=/etc/iota/pg-ca.pem",
      "postgres://iota@db.internal/iota?sslmode=",
      "postgres://iota:a&ssl=false@db.internal/iota",
      "postgres://iota@localhost/iota?host=db.internal",
    ])
      expect([url, postgresTls(url, NO_ENV)]).toEqual([url, VERIFIED_TLS]);
    expect(postgresTls("postgresql:///iota", { PGHOST: "db.internal" })).toBe(VERIFIED_TLS);
  });

  test("a mode that does not verify, named by the URL or PGSSLMODE, stands: sslmode=disable included", () => {
    for (const url of [
      "postgres://iota@db.internal/iota?sslmode=disable",
      "postgres://iota@db.internal/iota?sslmode=require",
      "postgres://iota@db.internal/iota?SSLMODE=prefer",
      "postgres://iota@db.internal/iota?ssl=false",
      "postgres://iota@db.internal/iota?tls=0",
      "postgres://iota@/iota?host=db.internal&sslmode=disable",
    ])
      expect([url, postgresTls(url, NO_ENV)]).toEqual([url, undefined]);
    expect(
      postgresTls("postgres://iota@db.internal/iota", { PGSSLMODE: "disable" }),
    ).toBeUndefined();
  });

  test("a mode that verifies is held to its check, on this machine too; ssl=true verifies", () => {
    for (const url of [
      "postgres://iota@db.internal/iota?sslmode=verify-full",
      "postgres://iota@db.internal/iota?SSLMODE=Verify-CA&sslrootcert=/etc/iota/pg-ca.pem",
      "postgres://iota@127.0.0.1/iota?sslrootcert=/etc/iota/pg-ca.pem&sslmode=verify-full",
      "postgres://iota@db.internal/iota?ssl=true",
      "postgres://iota@localhost/iota?tls=1",
    ])
      expect([url, postgresTls(url, NO_ENV)]).toEqual([url, VERIFIED_TLS]);
    expect(postgresTls("postgres://iota@localhost/iota", { PGSSLMODE: "verify-full" })).toBe(
      VERIFIED_TLS,
    );
  });

  test("nothing is asked of a server on this machine", () => {
    expect(postgresTls("postgres://iota@127.0.0.1:5432/iota", NO_ENV)).toBeUndefined();
    expect(postgresTls("postgres://iota@/iota?host=/run/postgresql", NO_ENV)).toBeUndefined();
  });
});

test("postgresTransport says how the connection is protected", () => {
  const say = (url: string) => postgresTransport(url, NO_ENV);
  expect(say("postgres://iota@db.internal/iota")).toBe(
    "TLS, the server's certificate verified (verify-full)",
  );
  expect(say("postgres://iota@db.internal/iota?sslmode=verify-ca")).toBe(
    "TLS, the server's certificate checked against its CA (verify-ca)",
  );
  expect(say("postgres://iota@127.0.0.1/iota")).toBe("on this machine, without TLS");
  expect(say("postgres://iota@db.internal/iota?sslmode=disable")).toBe(
    "in clear, as sslmode disable asks",
  );
  expect(say("postgres://iota@db.internal/iota?sslmode=require")).toBe(
    "TLS without a check of the server's certificate (sslmode require)",
  );
  expect(say("postgres://iota@db.internal/iota?sslmode=prefer")).toBe(
    "TLS if the server offers it, without a check of its certificate (sslmode prefer)",
  );
});
