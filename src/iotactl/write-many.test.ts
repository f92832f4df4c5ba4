/** Writing files whole: a failed write reports its own cause, never the failed clean-up of its temp file. */

import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { systemFiles } from "./io.ts";
import { writeMany } from "./write-many.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "iotactl-write-many-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The code of what `action` throws or rejects with. */
async function failure(action: () => unknown): Promise<{ code?: string; message: string }> {
  try {
    await action();
  } catch (error) {
    return error as { code?: string; message: string };
  }
  throw new Error("it did not fail");
}

describe("a write under a path that is a file", () => {
  // Hint: there the temp file's removal fails too (EFAULT or ENOTDIR); the open's error is the one that counts.
  test("writeMany rejects with the write's error, not the removal's", async () => {
    writeFileSync(join(dir, "afile"), "x");
    const error = await failure(() =>
      writeMany(join(dir, "afile"), [{ name: "a.json", data: "{}" }], 0o600),
    );
    expect(error.code).toBe("ENOTDIR");
    expect(error.message).not.toContain("rm ");
  });

  test("systemFiles.writeFile throws the write's error, not the removal's", async () => {
    writeFileSync(join(dir, "afile"), "x");
    const error = await failure(() => systemFiles.writeFile(join(dir, "afile", "x"), "y", 0o600));
    expect(error.code).toBe("ENOTDIR");
    expect(error.message).not.toContain("rm ");
  });

  test("systemFiles.mkdir on a file throws ENOTDIR naming it; on a folder it does nothing", async () => {
    writeFileSync(join(dir, "afile"), "x");
    const error = await failure(() => systemFiles.mkdir(join(dir, "afile"), 0o700));
    expect(error.code).toBe("ENOTDIR");
    expect(error.message).toContain(join(dir, "afile"));
    systemFiles.mkdir(dir, 0o700);
    expect(readdirSync(dir)).toEqual(["afile"]);
  });
});

test("writeMany writes every file and counts them", async () => {
  const files = Array.from({ length: 40 }, (_, i) => ({ name: `f-${i}.json`, data: `${i}` }));
  const counts: number[] = [];
  expect(await writeMany(dir, files, 0o600, (n) => counts.push(n))).toBe(40);
  expect(counts.at(-1)).toBe(40);
  expect(readdirSync(dir)).toHaveLength(40);
});
