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

/** A text sink that joins the lines of one turn of the event loop into one write; `flush` writes what waits. */
export interface BatchedWriter {
  write(line: string): void;
  flush(): void;
}

/**
 * Joins the lines written during one turn of the event loop into one `write` at its end. Hint: the access log
 * writes a line per request; a write call per line was a system call per provisioned device.
 */
export function batchedWriter(write: (text: string) => void): BatchedWriter {
  let waiting = "";
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (waiting === "") return;
    const text = waiting;
    waiting = "";
    write(text);
  };
  return {
    write(line) {
      waiting += line;
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    flush,
  };
}

/** A logger that keeps its lines, for tests. */
export function memoryLogger(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return { lines, info: (m) => lines.push(`info ${m}`), error: (m) => lines.push(`error ${m}`) };
}
