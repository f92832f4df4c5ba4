import { describe, expect, test } from "bun:test";
import { VERIFIED_TLS, postgresOnThisHost, postgresTls } from "./database-url.ts";

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
      expect([url, postgresOnThisHost(url)]).toEqual([url, true]);
  });

  test("any other host is across a network, as is a URL that does not parse", () => {
    for (const url of [
      "postgres://iota:pw@db.internal:5432/iota",
      "postgres://iota@10.0.0.5/iota",
      "postgres://iota@[fd00::5]/iota",
      "postgres://iota@128.0.0.1/iota",
      "postgres://iota@localhost.example.com/iota",
      "postgres://iota@[::ffff:7f00:1]/iota",
      "postgres://iota:p@ss/word@db/iota%",
    ])
      expect([url, postgresOnThisHost(url)]).toEqual([url, false]);
  });
});

describe("postgresTls", () => {
  test("a server across a network is asked for verified TLS when the URL names no mode", () => {
    expect(postgresTls("postgres://iota:pw@db.internal:5432/iota")).toBe(VERIFIED_TLS);
    expect(VERIFIED_TLS).toEqual({ rejectUnauthorized: true });
    // Hint: a private CA given in the URL leaves the mode to this default, which then checks against it.
    expect(postgresTls("postgres://iota@db.internal/iota?sslrootcert=/etc/iota/pg-ca.pem")).toBe(
      VERIFIED_TLS,
    );
  });

  test("the URL's own mode stands, sslmode=disable included", () => {
    for (const url of [
      "postgres://iota@db.internal/iota?sslmode=disable",
      "postgres://iota@db.internal/iota?sslmode=require",
      "postgres://iota@db.internal/iota?ssl=true",
      "postgres://iota@db.internal/iota?tls=require",
      "postgres://iota@/iota?host=db.internal&sslmode=disable",
    ])
      expect([url, postgresTls(url)]).toEqual([url, undefined]);
  });

  test("a mode that verifies is held to its check, on this machine too", () => {
    for (const url of [
      "postgres://iota@db.internal/iota?sslmode=verify-full",
      "postgres://iota@db.internal/iota?SSLMODE=Verify-CA&sslrootcert=/etc/iota/pg-ca.pem",
      "postgres://iota@127.0.0.1/iota?sslrootcert=/etc/iota/pg-ca.pem&sslmode=verify-full",
    ])
      expect([url, postgresTls(url)]).toEqual([url, VERIFIED_TLS]);
  });

  test("nothing is asked of a server on this machine", () => {
    expect(postgresTls("postgres://iota@127.0.0.1:5432/iota")).toBeUndefined();
    expect(postgresTls("postgres://iota@/iota?host=/run/postgresql")).toBeUndefined();
  });
});
