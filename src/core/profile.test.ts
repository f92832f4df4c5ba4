import { describe, expect, test } from "bun:test";
import { backdateOfSpan, backdateSeconds } from "./profile.ts";

describe("backdateOfSpan", () => {
  test("tells the backdate from a certificate's span: never less than the one set, less than a second more", () => {
    const validities = [...Array.from({ length: 1000 }, (_, i) => 60 + i), 3600, 86400, 30 * 86400];
    for (const validity of validities) {
      const set = backdateSeconds(validity) * 1000;
      const told = backdateOfSpan(validity * 1000 + set);
      expect(told).toBeGreaterThanOrEqual(set);
      expect(told - set).toBeLessThan(1000);
    }
  });
});
