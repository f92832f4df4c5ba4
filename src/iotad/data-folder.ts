/** Whether the agent's data folder can be used, said before it is used, and its file system errors in a person's words. */

import { accessSync, constants, statSync } from "node:fs";
import { dirname } from "node:path";

const REASONS: Record<string, string> = {
  ENOTDIR: "a part of its path is a file, not a folder",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "the file system is read-only",
  ENOSPC: "no space is left on the device",
  EEXIST: "a file is in the way",
};

/** A file system error met in data folder `dir`, in words; undefined when `error` is no file system error. */
export function dataFolderProblem(error: unknown, dir: string): string | undefined {
  const e = error as NodeJS.ErrnoException;
  if (typeof e?.code !== "string" || e.syscall === undefined) return undefined;
  const where = e.path !== undefined && e.path !== dir ? ` at ${e.path}` : "";
  return `data folder ${dir}: ${REASONS[e.code] ?? e.message} (${e.code}${where})`;
}

/** This process's user, for messages about permissions. */
function whoAmI(): string {
  const uid = process.getuid?.();
  return uid === undefined ? "this user" : `this user (uid ${uid})`;
}

/**
 * What keeps `dir` from being the data folder, checked without creating anything: the folder, or the nearest
 * folder above it that exists (where it would be created), must be a folder this user can write in.
 * Undefined when it can be used.
 */
export function dataFolderCheck(dir: string): string | undefined {
  let path = dir;
  for (;;) {
    let isFolder: boolean;
    try {
      isFolder = statSync(path).isDirectory();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") return dataFolderProblem(error, dir);
      const parent = dirname(path);
      if (parent === path) return undefined;
      path = parent;
      continue;
    }
    if (!isFolder) return `data folder ${dir}: ${path} is a file, not a folder`;
    try {
      accessSync(path, constants.W_OK | constants.X_OK);
    } catch {
      return path === dir
        ? `data folder ${dir}: ${whoAmI()} cannot write in it`
        : `data folder ${dir}: cannot be created, ${whoAmI()} cannot write in ${path}`;
    }
    return undefined;
  }
}
