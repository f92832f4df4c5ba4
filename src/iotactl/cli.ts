/** iotactl's dispatcher: finds the command, shows help, runs the action and maps errors to exit codes. */

import { speaksTls } from "./tls-probe.ts";
import { VERSION } from "../core/version.ts";
import type { Command, CommandContext } from "./command.ts";
import { COMMANDS } from "./commands/index.ts";
import { createConsole } from "./console.ts";
import { EXIT, isCliError, usageError } from "./exit-codes.ts";
import { fileErrorLine, fileFailure, fsErrorCode } from "./file-errors.ts";
import { parseFlags } from "./flags.ts";
import { commandHelp, groupHelp, overviewHelp } from "./help.ts";
import type { Io } from "./io.ts";
import { requireToken, resolveSettings, type Settings } from "./config.ts";
import { ApiClient } from "./client.ts";
import { checkPlainHttp } from "./server-url.ts";

const isHelp = (arg: string) => arg === "--help" || arg === "-h";

/** The command named by the leading words of `argv`, and the arguments after them. */
function findCommand(
  words: string[],
  commands: Command[],
): { command: Command; rest: string[] } | undefined {
  for (const command of commands) {
    if (command.words.every((w, i) => words[i] === w))
      return { command, rest: words.slice(command.words.length) };
  }
  return undefined;
}

/** Runs iotactl with `argv` (without the program name); resolves to the exit code. */
export async function runCli(
  argv: string[],
  io: Io,
  commands: Command[] = COMMANDS,
): Promise<number> {
  const console = createConsole(io);
  try {
    const code = await dispatch(argv, io, commands, console);
    // Hint: a full disk under `> FILE` shows only once the output is flushed; it fails the command, not iotactl.
    await io.stdout.flushed().catch((error: unknown) => {
      throw fileFailure(error, "cannot write the output (stdout)");
    });
    return code;
  } catch (error) {
    if (isCliError(error)) {
      console.error(error.message);
      return error.exitCode;
    }
    // Hint: a file-system error no command put in words still gets one line with its path and cause.
    if (fsErrorCode(error) !== undefined) {
      console.error(fileErrorLine(error));
      return EXIT.FAILURE;
    }
    console.error(`unexpected failure: ${(error as Error).message ?? String(error)}`);
    return EXIT.FAILURE;
  }
}

/** Shows help or the version, or runs the command `argv` names; throws what the command throws. */
async function dispatch(
  argv: string[],
  io: Io,
  commands: Command[],
  console: CommandContext["console"],
): Promise<number> {
  // Hint: global flags may come before the command words (`iotactl --json list groups`).
  let skip = 0;
  while (argv[skip] === "--json" || argv[skip] === "--insecure") skip += 1;
  const leading = argv.slice(0, skip);
  const words = argv.slice(skip);
  const first = words[0];
  if (first === undefined) {
    io.stderr.write(overviewHelp(commands));
    return EXIT.USAGE;
  }
  if (isHelp(first) || first === "help") {
    const found = words.length > 1 ? findCommand(words.slice(1), commands) : undefined;
    io.stdout.write(found ? commandHelp(found.command) : overviewHelp(commands));
    return EXIT.OK;
  }
  // Hint: -v as iota-server and iotad spell it; -V kept for scripts written before.
  if (first === "--version" || first === "-v" || first === "-V" || first === "version") {
    io.stdout.write(`iotactl ${VERSION}\n`);
    return EXIT.OK;
  }
  const found = findCommand(words, commands);
  if (!found) {
    const family = commands.filter((c) => c.words[0] === first);
    if (family.length === 0)
      throw usageError(
        `unknown command ${JSON.stringify(first)}; run "iotactl --help" for the list`,
      );
    if (words.slice(1).some(isHelp)) {
      io.stdout.write(groupHelp(first, family));
      return EXIT.OK;
    }
    const what = words[1] === undefined || words[1].startsWith("-") ? "" : ` ${words[1]}`;
    throw usageError(
      `unknown command "${first}${what}"; try: ${family.map((c) => c.words.join(" ")).join(", ")}`,
    );
  }
  if (found.rest.some(isHelp)) {
    io.stdout.write(commandHelp(found.command));
    return EXIT.OK;
  }
  const args = parseFlags([...leading, ...found.rest], found.command.flags);
  return await found.command.run(commandContext(io, args, console, commands));
}

function commandContext(
  io: Io,
  args: CommandContext["args"],
  console: CommandContext["console"],
  commands: Command[],
): CommandContext {
  let settings: Settings | undefined;
  const insecure = args.values.insecure === true;
  const resolve = () => (settings ??= resolveSettings(io));
  const resending = { notify: (message: string) => console.warn(message), speaksTls };
  const checked = () => {
    const s = resolve();
    checkPlainHttp(s.server, s.serverSource, insecure);
    return s;
  };
  return {
    io,
    args,
    json: args.values.json === true,
    insecure,
    commands,
    console,
    settings: resolve,
    admin: () => {
      const s = checked();
      return new ApiClient(s.server, requireToken(s), io.fetch, s.ca, resending);
    },
    anonymous: () => {
      const s = checked();
      return new ApiClient(s.server, undefined, io.fetch, s.ca, resending);
    },
  };
}
