/** The service's log: one line per event on stderr, shared by the HTTP layer, the broker and start-up. Never given request bodies, headers or secrets. */

/** Where the service writes its log lines. */
export interface Logger {
  info(message: string): void;
  error(message: string): void;
}

/** Writes timestamped lines to a stream (stderr in production). */
export function streamLogger(write: (line: string) => void, now: () => number = Date.now): Logger {
  const line = (level: string, message: string) =>
    write(`${new Date(now()).toISOString()} ${level} ${message}\n`);
  return { info: (m) => line("info", m), error: (m) => line("error", m) };
}

/** A logger that keeps its lines, for tests. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), error: (m) => lines.push(`error ${m}`) };
}
