import { expect, test } from "bun:test";
import { formatDuration, parseDuration } from "./duration.ts";

test.each([
  ["30d", 2592000],
  ["12h", 43200],
  ["90s", 90],
  ["1m", 60],
  ["2w", 1209600],
  ["1h30m", 5400],
  ["1d12h", 129600],
  ["90", 90],
  [" 5m ", 300],
  [120, 120],
  [0, 0],
])("parses %p as %p seconds", (text, seconds) => {
  expect(parseDuration(text)).toBe(seconds);
});

test.each(["", "forever", "1y", "1.5h", "-1d", "1h 30m", "h", "30d!", "d30"])(
  "refuses %p",
  (text) => {
    expect(parseDuration(text)).toBeUndefined();
  },
);

test.each([-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 60])(
  "refuses the number %p",
  (n) => {
    expect(parseDuration(n)).toBeUndefined();
  },
);

test.each([
  [0, "0s"],
  [90, "1m30s"],
  [2592000, "30d"],
  [129600, "1d12h"],
  [3661, "1h1m1s"],
])("formats %p seconds as %p, which parses back", (seconds, text) => {
  expect(formatDuration(seconds)).toBe(text);
  expect(parseDuration(text)).toBe(seconds);
});
