/** The service's log: one line per event on stderr, shared by the HTTP layer, the broker and start-up. Never given request bodies, headers or secrets. */

/** Where the service writes its log lines. */
export interface Logger {
  info(message: string): void;
  error(message: string): void;
}

// Hint: C0 and C1 controls (line breaks among them), space, DEL, backslash, the Unicode line and paragraph
// separators and the bidirectional overrides, which could end a log line or make one read as another.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it looks for.
const UNSAFE = /[\u0000-\u0020\u007f-\u009f\\\u200e\u200f\u2028-\u202e\u2066-\u2069]/;
const UNSAFE_ALL = new RegExp(UNSAFE.source, "g");

/**
 * Request-controlled text (a decoded path, a method) as one log token: every character that could break the line,
 * split the token or disguise it is written as a `\xNN` or `\uNNNN` escape, and a backslash as `\\`, so a client
 * cannot forge a log line and the escaped text maps back to exactly one original.
 */
export function logText(text: string): string {
  if (!UNSAFE.test(text)) return text;
  return text.replace(UNSAFE_ALL, (c) => {
    if (c === "\\") return "\\\\";
    const code = c.charCodeAt(0);
    return code < 0x100
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : `\\u${code.toString(16).padStart(4, "0")}`;
  });
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
