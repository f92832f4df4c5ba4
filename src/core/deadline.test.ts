import { expect, test } from "bun:test";
import { settleWithin } from "./deadline.ts";

test("settleWithin: the work's outcome in time, else what late gives or throws; no timer is left", async () => {
  expect(await settleWithin(Promise.resolve(7), 1_000, () => "late")).toBe(7);
  await expect(settleWithin(Promise.reject(new Error("failed")), 1_000, () => 0)).rejects.toThrow(
    "failed",
  );
  const never = new Promise<number>(() => {});
  expect(await settleWithin(never, 5, () => "late")).toBe("late");
  await expect(
    settleWithin(never, 5, () => {
      throw new Error("too slow");
    }),
  ).rejects.toThrow("too slow");
  // A settled race clears its timer: late is never called afterwards.
  let calls = 0;
  await settleWithin(Promise.resolve(1), 20, () => calls++);
  await Bun.sleep(40);
  expect(calls).toBe(0);
});
