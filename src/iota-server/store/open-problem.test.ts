import { expect, test } from "bun:test";
import { databaseOpenProblem } from "./open-problem.ts";

const URL = "postgres://iota:s3cret@db.internal:5432/iota";
const failure = (code: string, message = "failed") => Object.assign(new Error(message), { code });

test("a server without TLS: says so, and both ways on", async () => {
  expect(await databaseOpenProblem(URL, failure("ERR_POSTGRES_TLS_NOT_AVAILABLE"))).toBe(
    "cannot open the database postgres://iota:***@db.internal:5432/iota: PostgreSQL at db.internal:5432 does not offer TLS (ERR_POSTGRES_TLS_NOT_AVAILABLE), which iota-server asks of a database across a network: turn ssl on in its postgresql.conf, or add sslmode=disable to the URL for a network you trust",
  );
});

test("a server without TLS where the URL asked for it: names the mode", async () => {
  expect(
    await databaseOpenProblem(
      "postgres://iota@localhost/iota?sslmode=require",
      failure("ERR_POSTGRES_TLS_NOT_AVAILABLE"),
    ),
  ).toEndWith(
    "PostgreSQL at localhost:5432 does not offer TLS (ERR_POSTGRES_TLS_NOT_AVAILABLE), which sslmode require asks for: turn ssl on in its postgresql.conf",
  );
});

test("a certificate of a CA this machine does not trust: names sslrootcert", async () => {
  for (const code of [
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  ])
    expect(await databaseOpenProblem(URL, failure(code))).toBe(
      `cannot open the database postgres://iota:***@db.internal:5432/iota: the certificate of PostgreSQL at db.internal:5432 does not chain to a CA this machine trusts (${code}): add sslrootcert=FILE to the URL, FILE the CA certificate (PEM) that signed it`,
    );
});

test("a certificate for another name, an expired one, an unreadable sslrootcert", async () => {
  expect(await databaseOpenProblem(URL, failure("ERR_TLS_CERT_ALTNAME_INVALID"))).toEndWith(
    "the certificate of PostgreSQL at db.internal:5432 does not name db.internal (ERR_TLS_CERT_ALTNAME_INVALID): connect by a name or address the certificate holds",
  );
  expect(await databaseOpenProblem(URL, failure("CERT_HAS_EXPIRED"))).toEndWith(
    "the certificate of PostgreSQL at db.internal:5432 is not valid now (CERT_HAS_EXPIRED): renew it, or check this machine's clock",
  );
  expect(
    await databaseOpenProblem(
      `${URL}?sslrootcert=/nowhere.pem`,
      failure("ERR_INVALID_ARG_TYPE", "Unable to access caFile path"),
    ),
  ).toEndWith(
    "the sslrootcert file the URL names cannot be read (ERR_INVALID_ARG_TYPE): give the path of the CA certificate (PEM) that signed the server's",
  );
});

test("a refused connection on a unix socket still names the socket's folder", async () => {
  expect(
    await databaseOpenProblem(
      "postgres://iota@%2Frun%2Fpostgresql/iota",
      failure("ERR_POSTGRES_CONNECTION_REFUSED"),
    ),
  ).toEndWith(
    "PostgreSQL refused the connection at /run/postgresql:5432 (ERR_POSTGRES_CONNECTION_REFUSED): is it running, and listening there?",
  );
});
