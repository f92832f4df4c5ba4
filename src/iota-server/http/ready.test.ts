import { expect, test } from "bun:test";
import { databaseAnswers } from "./ready.ts";

test("ready while the database answers; not on an error, nor when no answer comes within the limit", async () => {
  expect(await databaseAnswers({ answers: () => Promise.resolve() }, 50)).toBe(true);
  expect(await databaseAnswers({ answers: () => Promise.reject(new Error("gone")) }, 50)).toBe(
    false,
  );
  expect(await databaseAnswers({ answers: () => new Promise<void>(() => {}) }, 50)).toBe(false);
});
