/** iota-server's exit statuses (a contract service managers rely on) and the start-up failure that carries one. */

/** The exit statuses of iota-server. */
export const SERVER_EXIT = {
  /** Stopped on SIGTERM/SIGINT, or --help / --version. */
  ok: 0,
  /** An unexpected internal failure. */
  internal: 1,
  /** A wrong flag or environment variable (each error names it). */
  usage: 2,
  /** The service could not start: the data folder, database, master key, address or TLS files. */
  cannotStart: 3,
} as const;

/** The exit-status table as `--help` shows it. */
export const SERVER_EXIT_HELP = `Exit status:
  0  stopped by SIGTERM or SIGINT (or --help, --version)
  1  unexpected internal failure
  2  a wrong flag or environment variable (the message names it)
  3  could not start: data folder, database, master key, listen address or TLS files
`;

/** A failure before the service is up, with the exit status it ends the process with. */
export class StartupError extends Error {
  constructor(
    message: string,
    /** The process exit status. */
    readonly exitCode: (typeof SERVER_EXIT)[keyof typeof SERVER_EXIT],
  ) {
    super(message);
    this.name = "StartupError";
  }
}

/** A wrong flag or environment variable. */
export function usageError(message: string): StartupError {
  return new StartupError(message, SERVER_EXIT.usage);
}

/** Something the service needs at start is unusable. */
export function cannotStart(message: string): StartupError {
  return new StartupError(message, SERVER_EXIT.cannotStart);
}

/** Type guard for {@link StartupError}. */
export function isStartupError(error: unknown): error is StartupError {
  return error instanceof StartupError;
}
