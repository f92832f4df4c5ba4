import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dataFolderCheck, dataFolderProblem } from "./data-folder.ts";

const tmp = mkdtempSync(join(tmpdir(), "iotad-data-folder-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe("the data folder", () => {
  test("a folder that exists, or one that can be created below one, is usable; nothing is created", () => {
    mkdirSync(join(tmp, "there"));
    expect(dataFolderCheck(join(tmp, "there"))).toBeUndefined();
    expect(dataFolderCheck(join(tmp, "new", "deeper"))).toBeUndefined();
    expect(dataFolderCheck(join(tmp, "new"))).toBeUndefined();
    expect(() => mkdirSync(join(tmp, "new"))).not.toThrow();
  });

  test("a file where the folder or a folder above it should be is named", () => {
    writeFileSync(join(tmp, "afile"), "");
    expect(dataFolderCheck(join(tmp, "afile"))).toBe(
      `data folder ${join(tmp, "afile")}: ${join(tmp, "afile")} is a file, not a folder`,
    );
    expect(dataFolderCheck(join(tmp, "afile", "data"))).toBe(
      `data folder ${join(tmp, "afile", "data")}: a part of its path is a file, not a folder (ENOTDIR)`,
    );
  });

  test("file system errors in words, with their code and path; anything else is not one", () => {
    const error = (code: string, path?: string) =>
      Object.assign(new Error(`${code}: raw`), { code, syscall: "open", path });
    expect(dataFolderProblem(error("EACCES", "/var/lib/iotad/key.pem"), "/var/lib/iotad")).toBe(
      "data folder /var/lib/iotad: permission denied (EACCES at /var/lib/iotad/key.pem)",
    );
    expect(dataFolderProblem(error("ENOSPC"), "/d")).toBe(
      "data folder /d: no space is left on the device (ENOSPC)",
    );
    expect(dataFolderProblem(error("EIO"), "/d")).toBe("data folder /d: EIO: raw (EIO)");
    expect(dataFolderProblem(new Error("not a file system error"), "/d")).toBeUndefined();
  });
});
