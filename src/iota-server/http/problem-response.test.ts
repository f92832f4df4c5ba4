import { expect, test } from "bun:test";
import { memoryLogger } from "../log.ts";
import { errorResponse } from "./problem-response.ts";
import { databaseUnavailable } from "../store/unavailable.ts";
import { noAnswer } from "../store/answer-watch.ts";

const failure = (code: string, message = `${code}: raw`) =>
  Object.assign(new Error(message), { code });

test("a database that cannot be used is a 503 to retry, logged by its code without details", async () => {
  for (const code of [
    "ERR_POSTGRES_CONNECTION_CLOSED",
    "ERR_POSTGRES_CONNECTION_REFUSED",
    "ERR_POSTGRES_CONNECTION_TIMEOUT",
    "ERR_POSTGRES_IDLE_TIMEOUT",
    "ECONNREFUSED",
    "SQLITE_BUSY",
    // A reconnection whose TLS failed: the database's certificate replaced, or its TLS turned off.
    "ERR_POSTGRES_TLS_NOT_AVAILABLE",
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "ERR_TLS_CERT_ALTNAME_INVALID",
    "CERT_HAS_EXPIRED",
  ]) {
    const log = memoryLogger();
    const answer = errorResponse(
      log,
      failure(code, "connect to postgres://iota:PASSWORD@db"),
      "GET",
      "/v1/groups",
    );
    expect(answer.status).toBe(503);
    expect(answer.headers.get("retry-after")).toBe("5");
    expect(answer.headers.get("content-type")).toBe("application/problem+json");
    expect(((await answer.json()) as { detail: string }).detail).toBe(
      "The database is unavailable; retry later",
    );
    expect(log.lines.join("\n")).toContain(
      `GET /v1/groups failed: the database is unavailable (${code})`,
    );
    expect(log.lines.join("\n")).not.toContain("PASSWORD");
  }
});

test("a database that did not answer is a 503 saying so; the log names the limits and what became of a write", async () => {
  const log = memoryLogger();
  const answer = errorResponse(log, noAnswer(5_000, 2_000), "POST", "/v1/provision");
  expect(answer.status).toBe(503);
  expect(answer.headers.get("retry-after")).toBe("5");
  expect(((await answer.json()) as { detail: string }).detail).toBe(
    "The database did not answer in time; retry later",
  );
  expect(log.lines.join("\n")).toContain(
    "POST /v1/provision failed: the database did not answer a statement within 5 s, nor a check within 2 s more (IOTA_DATABASE_NO_ANSWER): is it cut off by the network? A write then under way was rolled back, unless its commit had already gone out",
  );
});

test("any other failure stays a logged 500 without details", async () => {
  expect(databaseUnavailable(failure("ERR_POSTGRES_SYNTAX_ERROR"))).toBeUndefined();
  expect(databaseUnavailable(new Error("plain"))).toBeUndefined();
  const log = memoryLogger();
  const answer = errorResponse(log, new Error("boom"), "GET", "/v1/groups");
  expect(answer.status).toBe(500);
  expect(((await answer.json()) as { detail: string }).detail).not.toContain("boom");
  expect(log.lines.join("\n")).toContain("boom");
});

test("SQLite storage that cannot take a write is a 503 to retry, logged by its cause without a stack", async () => {
  const causes: Record<string, string> = {
    SQLITE_FULL: "the database's disk is full (SQLITE_FULL); nothing was written",
    SQLITE_IOERR_WRITE: "the database is unavailable (SQLITE_IOERR_WRITE)",
    SQLITE_READONLY: "the database cannot be written (SQLITE_READONLY)",
    SQLITE_CANTOPEN: "the database is unavailable (SQLITE_CANTOPEN)",
    IOTA_STORAGE_FAILED:
      "the database may not hold what it would answer (IOTA_STORAGE_FAILED; the first error logged says why): restart iota-server once that is fixed",
  };
  for (const [code, cause] of Object.entries(causes)) {
    const log = memoryLogger();
    const answer = errorResponse(log, failure(code), "POST", "/v1/provision");
    expect(answer.status).toBe(503);
    expect(answer.headers.get("retry-after")).toBe("5");
    expect(log.lines.join("\n")).toContain(`POST /v1/provision failed: ${cause}`);
    expect(log.lines.join("\n")).not.toContain("    at ");
  }
  expect(databaseUnavailable(failure("SQLITE_CONSTRAINT"))).toBeUndefined();
});
