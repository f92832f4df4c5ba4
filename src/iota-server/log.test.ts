/** The service log's batched writer: one write per turn of the event loop, in order, nothing left behind. */

import { expect, test } from "bun:test";
import { batchedWriter } from "./log.ts";

test("lines of one turn go out in one write, in order; the next turn's in another", async () => {
  const writes: string[] = [];
  const out = batchedWriter((text) => writes.push(text));
  out.write("a\n");
  out.write("b\n");
  expect(writes).toEqual([]);
  await new Promise((next) => setImmediate(next));
  expect(writes).toEqual(["a\nb\n"]);
  out.write("c\n");
  await new Promise((next) => setImmediate(next));
  expect(writes).toEqual(["a\nb\n", "c\n"]);
});

test("flush writes what waits at once, and the scheduled write then has nothing to add", async () => {
  const writes: string[] = [];
  const out = batchedWriter((text) => writes.push(text));
  out.write("last words\n");
  out.flush();
  expect(writes).toEqual(["last words\n"]);
  await new Promise((next) => setImmediate(next));
  expect(writes).toEqual(["last words\n"]);
});
