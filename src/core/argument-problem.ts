/** A command-line parsing failure of `node:util` parseArgs as one line for stderr. */

/**
 * parseArgs's message without its advice about `--` (written with unbalanced quotes), on one line.
 * Hint: its messages are already specific ("Unknown option '--cout'"); some (a value starting with a dash)
 * span three lines, and a reason on stderr must stay one line.
 */
export function argumentProblem(error: unknown): string {
  return String((error as Error).message ?? error)
    .replace(/\. To specify a positional argument.*$/s, "")
    .replace(/\s*\n\s*/g, " ");
}
