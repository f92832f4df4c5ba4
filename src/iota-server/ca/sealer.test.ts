/** Sealed secrets: bound to key and context, and remembered only by their exact sealed text. */

import { describe, expect, test } from "bun:test";
import { Sealer, newMasterKey } from "./sealer.ts";

describe("Sealer", () => {
  test("opens what it sealed; another context or key is refused", () => {
    const sealer = new Sealer(newMasterKey());
    const sealed = sealer.seal("secret", "group-secret:t/g");
    expect(sealer.open(sealed, "group-secret:t/g")).toBe("secret");
    expect(() => sealer.open(sealed, "group-secret:t/h")).toThrow();
    expect(() => new Sealer(newMasterKey()).open(sealed, "group-secret:t/g")).toThrow();
  });

  test("openCached remembers by context and sealed text: a new sealed value (rotation) is opened anew, a wrong context still fails", () => {
    const sealer = new Sealer(newMasterKey());
    const first = sealer.seal("old", "group-secret:t/g");
    expect(sealer.openCached(first, "group-secret:t/g")).toBe("old");
    expect(sealer.openCached(first, "group-secret:t/g")).toBe("old");
    expect(() => sealer.openCached(first, "group-secret:t/h")).toThrow();
    const rotated = sealer.seal("new", "group-secret:t/g");
    expect(sealer.openCached(rotated, "group-secret:t/g")).toBe("new");
    expect(() => sealer.openCached("v1.AAAA.BBBB", "group-secret:t/g")).toThrow();
  });

  test("openCached stays bounded and still answers after forgetting", () => {
    const sealer = new Sealer(newMasterKey());
    const values = Array.from({ length: 1100 }, (_, i) =>
      sealer.seal(`s${i}`, `group-secret:t/g${i}`),
    );
    for (const [i, v] of values.entries())
      expect(sealer.openCached(v, `group-secret:t/g${i}`)).toBe(`s${i}`);
    expect((sealer as unknown as { opened: Map<string, string> }).opened.size).toBeLessThanOrEqual(
      1024,
    );
    expect(sealer.openCached(values[0] ?? "", "group-secret:t/g0")).toBe("s0");
  });
});
