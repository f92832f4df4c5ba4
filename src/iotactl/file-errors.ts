/** File-system failures in words: the cause of a failed write, for the one line a person reads. */

import { CliError, EXIT } from "./exit-codes.ts";

/** The causes people meet when iotactl writes files or its output, by node:fs error code. */
const CAUSES: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "permission denied",
  ENOSPC: "no space left on the disk",
  EDQUOT: "the disk quota is used up",
  EROFS: "the file system is read-only",
  EIO: "input/output error, the disk or its connection failed",
  ENOTDIR: "not a folder",
  EISDIR: "is a folder, not a file",
  ENOENT: "no such file or folder",
  EEXIST: "already exists",
  EMFILE: "too many open files",
  ENFILE: "too many open files",
  EFBIG: "the file is too large for the file system",
};

/** The code of a node:fs error (`ENOSPC`), or undefined for any other error. */
export function fsErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === "string" && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** A failed write as words and code: `no space left on the disk (ENOSPC)`. */
export function writeProblem(error: unknown): string {
  const code = fsErrorCode(error);
  const cause = code === undefined ? undefined : CAUSES[code];
  if (cause !== undefined) return `${cause} (${code})`;
  // Hint: node's message names the syscall and often a temp path; the code alone is what it adds.
  return code ?? (error as Error).message ?? String(error);
}

/**
 * A file-system error as the one-line failure `${what}: <cause>; ${then}` (exit 1); any other error
 * unchanged, so a caller can `throw fileFailure(error, ...)` whatever it caught.
 */
export function fileFailure(error: unknown, what: string, then?: string): unknown {
  if (fsErrorCode(error) === undefined) return error;
  const next = then === undefined ? "" : `; ${then}`;
  return new CliError(EXIT.FAILURE, `${what}: ${writeProblem(error)}${next}`);
}

/** A file-system error no command explained: `cannot open /x/key.pem: permission denied (EACCES)`. */
export function fileErrorLine(error: unknown): string {
  const { syscall, path } = error as { syscall?: unknown; path?: unknown };
  const verb = typeof syscall === "string" ? syscall : "use";
  const where = typeof path === "string" ? ` ${path}` : " a file";
  return `cannot ${verb}${where}: ${writeProblem(error)}`;
}
