/** The shape of a declarative iotactl command: usage, examples and exit codes beside its action. */

import type { Flag, ParsedArgs } from "./flags.ts";
import type { Io } from "./io.ts";
import type { ApiClient } from "./client.ts";
import type { Settings } from "./config.ts";
import type { Console } from "./console.ts";

/** What a command's action receives. */
export interface CommandContext {
  io: Io;
  args: ParsedArgs;
  /** `--json` was given. */
  json: boolean;
  /** `--insecure` was given: a plain http:// server beyond loopback is accepted. */
  insecure: boolean;
  /** The command table (for help-like commands such as `completion`). */
  commands: Command[];
  /** Messages for people (stderr), colored only on a terminal without NO_COLOR. */
  console: Console;
  /** The server, token and trust; resolved on first use, so commands that need none never read the config. */
  settings(): Settings;
  /** A client for admin calls (exit 5 when there is no token for this server; exit 2 for plain http beyond loopback without --insecure). */
  admin(): ApiClient;
  /** A client for public calls (provision, CA, CRL); the same plain-http rule. */
  anonymous(): ApiClient;
}

/** One command: `iotactl <words...> [flags] [arguments]`. */
export interface Command {
  /** The words naming it (`["add", "group"]`). */
  words: string[];
  /** One line for the command list. */
  summary: string;
  /** The usage line after `iotactl `. */
  usage: string;
  /** Longer description (what goes to stdout, what to stderr). */
  description: string;
  /** Flags besides the global ones. */
  flags: Flag[];
  /** Example invocations, one per line, each with an optional `# comment`. */
  examples: string[];
  /** The values the first argument may take, when it is one of a few words (shell completion offers them). */
  choices?: string[];
  /**
   * Checks every flag and argument first (throwing usage errors), then acts.
   * Returns the exit code (0, or 1 when some items of a bulk operation failed).
   */
  run(ctx: CommandContext): Promise<number>;
}
