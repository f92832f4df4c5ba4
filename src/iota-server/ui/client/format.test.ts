import { expect, test } from "bun:test";
import { duration, fromNow, utc } from "./format.ts";
import { forecastSummary } from "./forecast-chart.ts";
import { expirySummary } from "./expiry-timeline.ts";

test("times read as UTC wall time and as a distance from now", () => {
  const now = Date.parse("2026-11-30T12:00:00.000Z");
  expect(utc("2026-11-30T12:34:56.789Z")).toBe("2026-11-30 12:34 UTC");
  expect(utc("2026-11-30T12:34:56.789Z", true)).toBe("2026-11-30 12:34:56 UTC");
  expect(fromNow("2026-11-30T15:00:00.000Z", now)).toBe("in 3 hours");
  expect(fromNow("2026-11-30T11:55:00.000Z", now)).toBe("5 minutes ago");
  expect(fromNow("2026-12-02T12:00:00.000Z", now)).toBe("in 2 days");
});

test("durations use the largest whole unit", () => {
  expect(duration(30 * 86_400)).toBe("30 days");
  expect(duration(600)).toBe("10 minutes");
  expect(duration(3_600)).toBe("1 hour");
  expect(duration(90)).toBe("90 seconds");
});

test("the charts' summaries say in words what the SVG draws", () => {
  const forecast = {
    from: "2026-11-30T12:00:00.000Z",
    bucketSeconds: 3_600,
    renewals: [1, 4, 0, 2],
  };
  expect(forecastSummary(forecast)).toBe(
    "7 renewals are due in the next 4 hours; at most 4 per hour (from 2026-11-30 13:00 UTC).",
  );
  expect(forecastSummary({ ...forecast, renewals: [0, 0] })).toBe(
    "No renewals are due in the next 2 hours.",
  );
  expect(
    expirySummary({
      expiringWithin24h: 3,
      expiringWithin7d: 41,
      overdueRenewals: 2,
      overdueSlackSeconds: 3_600,
    }),
  ).toBe(
    "3 certificates expire within 24 hours and 38 more within 7 days; 2 renewals are overdue (planned renewal passed more than 1 hour ago).",
  );
});
