/** iotactl's exit codes (a documented contract scripts rely on) and the one error that carries them. */

/** Exit statuses of every iotactl command. */
export const EXIT = {
  /** Success. */
  OK: 0,
  /** Anything else: some bulk names invalid, server error, rate limited. */
  FAILURE: 1,
  /** Bad command line or bad input (unknown flag, invalid name, missing file). */
  USAGE: 2,
  /** The group or device does not exist. */
  NOT_FOUND: 3,
  /** It already exists (or conflicts with the current state). */
  CONFLICT: 4,
  /** No admin token for this server, or the server refused it. */
  AUTH: 5,
  /** The server could not be reached. */
  UNREACHABLE: 6,
  /** The server's identity could not be verified: a wrong fingerprint, or a certificate that does not chain to the pinned CA (or the system roots). */
  IDENTITY: 7,
  /** Ctrl-C (SIGINT) or SIGTERM stopped a bulk command between two of its steps; it said how far it got. */
  INTERRUPTED: 130,
} as const;

/** One of {@link EXIT}'s values. */
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** The exit-code table as every command's help shows it. */
export const EXIT_CODES_HELP = `Exit codes:
  0  success
  1  other failure (e.g. some names in a bulk creation were invalid, server error)
  2  usage error (unknown flag, missing argument, invalid name, unreadable file)
  3  not found (group or device)
  4  conflict (already exists)
  5  authentication failure (no admin token for this server, or the server refused it)
  6  server unreachable
  7  the server's identity could not be verified (wrong fingerprint, or its certificate
     does not chain to the pinned CA or the system roots); nothing was sent or saved
130  interrupted (Ctrl-C): a bulk command stopped between two batches or files and said
     how far it got; the same command again finishes the job
`;

/** An expected failure of a command: a one-line reason for stderr and the exit status. */
export class CliError extends Error {
  /** The process exit status. */
  readonly exitCode: ExitCode;

  constructor(exitCode: ExitCode, message: string) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** A usage error (exit 2). */
export function usageError(message: string): CliError {
  return new CliError(EXIT.USAGE, message);
}

/** Type guard for {@link CliError}. */
export function isCliError(error: unknown): error is CliError {
  return error instanceof CliError;
}

/** The exit code for an HTTP error status from the server. */
export function exitCodeForStatus(status: number): ExitCode {
  if (status === 400 || status === 413 || status === 415 || status === 422) return EXIT.USAGE;
  if (status === 401 || status === 403) return EXIT.AUTH;
  if (status === 404) return EXIT.NOT_FOUND;
  if (status === 409) return EXIT.CONFLICT;
  return EXIT.FAILURE;
}
