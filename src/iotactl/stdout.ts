/** iotactl's standard output on the real process: writes whose failure is reported, never a crash. */

import type { ResultOutput } from "./io.ts";

/**
 * `stream` (process.stdout) as a {@link ResultOutput}; `onClosedPipe` is called when the reader went away
 * (EPIPE). Hint: writing to a file on a full disk fails after write() returned, in the stream's callback
 * and error event; an error thrown there would crash iotactl with a stack trace, so it is kept and
 * `flushed()` hands it to the command that wrote.
 */
export function processStdout(stream: NodeJS.WriteStream, onClosedPipe: () => void): ResultOutput {
  let failure: { error: unknown } | undefined;
  let last: Promise<void> = Promise.resolve();
  let reject: (error: unknown) => void = () => {};
  const failed = new Promise<void>((_, fail) => {
    reject = fail;
  });
  failed.catch(() => {});
  const fail = (error: unknown) => {
    if ((error as { code?: unknown }).code === "EPIPE") onClosedPipe();
    failure ??= { error };
    reject(failure.error);
  };
  stream.on("error", fail);
  return {
    write: (text) => {
      if (failure !== undefined) return;
      try {
        last = new Promise((resolve) =>
          stream.write(text, (error) => {
            if (error) fail(error);
            resolve();
          }),
        );
      } catch (error) {
        fail(error);
      }
    },
    isTTY: stream.isTTY === true,
    // Hint: a failed stream may never call the callbacks of writes after the failure; the race ends anyway.
    flushed: async () => {
      await Promise.race([last, failed]);
      if (failure !== undefined) throw failure.error;
    },
  };
}
