/** Output for people on stderr: messages, warnings, a progress bar; color only on a terminal without NO_COLOR. */

import type { Io } from "./io.ts";

/** Messages for people. */
export interface Console {
  /** A line of information (stderr). */
  info(message: string): void;
  /** A warning line (stderr). */
  warn(message: string): void;
  /** The error line printed before a non-zero exit. */
  error(message: string): void;
  /** A progress bar updated in place; a no-op unless stderr is a terminal. */
  progress(done: number, total: number): void;
  /** Clears the progress bar line. */
  endProgress(): void;
}

/** True when color may be used: stderr is a terminal and NO_COLOR is unset or empty (no-color.org). */
export function useColor(io: Io): boolean {
  return io.stderr.isTTY && !io.env.NO_COLOR;
}

/** A console on `io.stderr`. */
export function createConsole(io: Io): Console {
  const color = useColor(io);
  const paint = (code: string, text: string) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
  let showing = false;
  const clear = () => {
    if (showing) io.stderr.write("\r\u001b[2K");
    showing = false;
  };
  return {
    info: (message) => {
      clear();
      io.stderr.write(`${message}\n`);
    },
    warn: (message) => {
      clear();
      io.stderr.write(`${paint("33", "warning:")} ${message}\n`);
    },
    error: (message) => {
      clear();
      io.stderr.write(`${paint("31", "iotactl:")} ${message}\n`);
    },
    progress: (done, total) => {
      if (!io.stderr.isTTY) return;
      io.stderr.write(`\r${progressLine(done, total, 30)}`);
      showing = true;
    },
    endProgress: clear,
  };
}

/** `[#######.......]  45%  45,000/100,000` */
export function progressLine(done: number, total: number, width: number): string {
  const ratio = total === 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(ratio * width);
  const percent = `${Math.floor(ratio * 100)}%`.padStart(4);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${percent}  ${done.toLocaleString("en-US")}/${total.toLocaleString("en-US")}`;
}
