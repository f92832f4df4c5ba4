/** Reading credentials for iotactl: from a file or stdin, never from a command-line argument left in `ps`. */

import { resolve } from "node:path";
import { usageError } from "./exit-codes.ts";
import { fileProblem, type Io } from "./io.ts";

/** The credential in `text`: its one line without surrounding whitespace. `what` names it in errors. */
export function singleLineSecret(text: string, what: string): string {
  const value = text.trim();
  if (value === "") throw usageError(`${what} is empty`);
  if (/\s/.test(value)) throw usageError(`${what} must be one line without spaces`);
  const stray = /[^\x21-\x7e]/.exec(value);
  if (stray !== null) {
    const code = (stray[0].codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0");
    throw usageError(
      `${what} holds U+${code} at character ${stray.index + 1}, which no IoTA token or secret has (they are printable ASCII); was it copied from a document or a chat?`,
    );
  }
  if (value.length > 256)
    throw usageError(`${what} is longer than 256 characters; is it the right file?`);
  return value;
}

/** A credential from a file (`what` names the flag in errors, never the content). */
export function readSecretFile(io: Io, path: string, what: string): string {
  let text: string;
  try {
    text = io.files.readText(resolve(io.cwd, path));
  } catch (error) {
    throw usageError(`${what} ${path}: ${fileProblem(error)}`);
  }
  return singleLineSecret(text, `${what} ${path}`);
}

/** A credential read from standard input. */
export async function readSecretStdin(io: Io, what: string): Promise<string> {
  return singleLineSecret(await io.readStdin(), `${what} (from stdin)`);
}
