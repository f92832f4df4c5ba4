/** processStdout: a write that fails after it returned is handed to `flushed()`, never thrown from an event. */

import { describe, expect, test } from "bun:test";
import { EventEmitter } from "node:events";
import { processStdout } from "./stdout.ts";

/** A stream whose writes fail with `code` (or succeed when undefined), calling back and emitting as node does. */
function fakeStream(code?: string) {
  const stream = new EventEmitter() as EventEmitter & {
    written: string[];
    isTTY: boolean;
    write(text: string, callback: (error?: Error | null) => void): boolean;
  };
  stream.written = [];
  stream.isTTY = false;
  stream.write = (text, callback) => {
    stream.written.push(text);
    setTimeout(() => {
      if (code === undefined) return callback(null);
      const error = Object.assign(new Error(`${code}: failed, write`), { code, syscall: "write" });
      callback(error);
      stream.emit("error", error);
    }, 1);
    return code === undefined;
  };
  return stream as typeof stream & NodeJS.WriteStream;
}

describe("processStdout", () => {
  test("a full disk: flushed() rejects with ENOSPC; later writes are dropped", async () => {
    const stream = fakeStream("ENOSPC");
    const out = processStdout(stream, () => {
      throw new Error("not a closed pipe");
    });
    out.write("secret\n");
    await expect(out.flushed()).rejects.toMatchObject({ code: "ENOSPC" });
    out.write("more\n");
    expect(stream.written).toEqual(["secret\n"]);
    await expect(out.flushed()).rejects.toMatchObject({ code: "ENOSPC" });
  });

  test("a reader gone away (EPIPE) ends quietly through onClosedPipe", async () => {
    let closed = 0;
    const out = processStdout(fakeStream("EPIPE"), () => {
      closed += 1;
    });
    out.write("row\n");
    await out.flushed().catch(() => {});
    expect(closed).toBeGreaterThan(0);
  });

  test("writes that succeed: flushed() resolves once they are done", async () => {
    const stream = fakeStream();
    const out = processStdout(stream, () => {});
    out.write("a\n");
    out.write("b\n");
    await out.flushed();
    expect(stream.written).toEqual(["a\n", "b\n"]);
  });
});
