/** The agent's log: one line per event on stderr. It is never given a key, token or secret. */

/** Where the agent writes its log lines. */
export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Timestamped lines to a stream (stderr in production). */
export function streamLogger(write: (line: string) => void, now: () => number = Date.now): Logger {
  const line = (level: string, message: string) =>
    write(
      `${new Date(now()).toISOString()} iotad ${level}: ${message.replace(/\s*\n\s*/g, " ")}\n`,
    );
  return {
    info: (m) => line("info", m),
    warn: (m) => line("warn", m),
    error: (m) => line("error", m),
  };
}

/** A logger that keeps its lines, for tests. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`info ${m}`),
    warn: (m) => lines.push(`warn ${m}`),
    error: (m) => lines.push(`error ${m}`),
  };
}
