import { expect, test } from "bun:test";
import { apiFilters, isFiltered } from "./device-filters.ts";

test("the form's choices become the API's filters; expiring counts from now", () => {
  const now = Date.parse("2026-11-30T12:00:00.000Z");
  expect(
    apiFilters({ q: "lamp", state: "provisioned", online: "false", overdue: "true" }, now),
  ).toEqual({
    q: "lamp",
    state: "provisioned",
    online: "false",
    overdue: "true",
  });
  expect(apiFilters({ expiring: "24h" }, now)).toEqual({
    expiringBefore: "2026-12-01T12:00:00.000Z",
  });
  expect(apiFilters({ expiring: "7d" }, now)).toEqual({
    expiringBefore: "2026-12-07T12:00:00.000Z",
  });
});

test("unknown values filter nothing, and a cursor alone is no filter", () => {
  expect(apiFilters({ online: "maybe", expiring: "1y", overdue: "false" })).toEqual({});
  expect(isFiltered({ cursor: "lamp-50" })).toBe(false);
  expect(isFiltered({ state: "revoked" })).toBe(true);
});
