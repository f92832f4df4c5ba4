import { expect, test } from "bun:test";
import { memoryLogger } from "../log.ts";
import { databaseUnavailable, errorResponse } from "./problem-response.ts";

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

test("any other failure stays a logged 500 without details", async () => {
  expect(databaseUnavailable(failure("ERR_POSTGRES_SYNTAX_ERROR"))).toBeUndefined();
  expect(databaseUnavailable(new Error("plain"))).toBeUndefined();
  const log = memoryLogger();
  const answer = errorResponse(log, new Error("boom"), "GET", "/v1/groups");
  expect(answer.status).toBe(500);
  expect(((await answer.json()) as { detail: string }).detail).not.toContain("boom");
  expect(log.lines.join("\n")).toContain("boom");
});
