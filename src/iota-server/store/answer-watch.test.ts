import { describe, expect, test } from "bun:test";
import { AnswerWatch, DATABASE_NO_ANSWER } from "./answer-watch.ts";

const never = <T>() => new Promise<T>(() => {});
const later = <T>(ms: number, value: T) =>
  new Promise<T>((resolve) => setTimeout(() => resolve(value), ms));

/** A watch with short limits whose check answers as `check` says; `checks` counts the checks asked. */
function watch(check: () => Promise<unknown>, checkMs = 20) {
  const counted = { checks: 0 };
  const w = new AnswerWatch({
    deadlineMs: 20,
    checkMs,
    check: () => {
      counted.checks++;
      return check();
    },
  });
  return Object.assign(counted, { w });
}

/** A statement that runs only once it is awaited, as Bun.SQL's do, answering `ms` later; `sent` says whether it was. */
function lazyStatement<T>(value: T, ms = 0): PromiseLike<T> & { sent: boolean } {
  const s: PromiseLike<T> & { sent: boolean } = {
    sent: false,
    // biome-ignore lint/suspicious/noThenProperty: a lazy query is a thenable, as Bun.SQL's queries are
    then(onFulfilled, onRejected) {
      s.sent = true;
      return later(ms, value).then(onFulfilled, onRejected);
    },
  };
  return s;
}

async function rejection(work: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await work;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("it did not reject");
}

describe("a statement", () => {
  test("answered before the deadline: its value, and no check", async () => {
    const t = watch(() => Promise.resolve());
    expect(await t.w.statement(Promise.resolve(["row"]))).toEqual(["row"]);
    expect(t.checks).toBe(0);
  });

  test("slower than the deadline on a database that answers checks: waits on, then its value", async () => {
    const t = watch(() => Promise.resolve());
    expect(await t.w.statement(later(120, "late"))).toBe("late");
    expect(t.checks).toBeGreaterThanOrEqual(1);
  });

  test("no answer, and no answer to the check either: IOTA_DATABASE_NO_ANSWER naming both limits", async () => {
    const t = watch(never);
    const error = await rejection(t.w.statement(never()));
    expect(error.code).toBe(DATABASE_NO_ANSWER);
    expect(error.message).toBe(
      "the database did not answer a statement within 0.02 s, nor a check within 0.02 s more",
    );
    expect(t.checks).toBe(1);
  });

  test("no answer, and the check fails (the database refuses connections): IOTA_DATABASE_NO_ANSWER", async () => {
    const t = watch(() => Promise.reject(new Error("refused")));
    expect((await rejection(t.w.statement(never()))).code).toBe(DATABASE_NO_ANSWER);
  });

  test("statements waiting together share one check", async () => {
    let answerCheck: () => void = () => {};
    const t = watch(
      () =>
        new Promise<void>((resolve) => {
          answerCheck = resolve;
        }),
      10_000,
    );
    const answers: Array<(value: number) => void> = [];
    const statement = () => new Promise<number>((resolve) => answers.push(resolve));
    const waiting = [t.w.statement(statement()), t.w.statement(statement())];
    // Hint: the check stays unanswered until the statements answered, so every deadline meanwhile joins it.
    await Bun.sleep(100);
    for (const [i, answer] of answers.entries()) answer(i + 1);
    answerCheck();
    expect(await Promise.all(waiting)).toEqual([1, 2]);
    expect(t.checks).toBe(1);
  });

  test("its own error passes through unchanged", async () => {
    const t = watch(() => Promise.resolve());
    const refused = Object.assign(new Error("duplicate key"), { code: "23505" });
    expect(await rejection(t.w.statement(Promise.reject(refused)))).toBe(refused);
  });
});

describe("a transaction", () => {
  test("commits when its statements answer, slow ones included", async () => {
    const t = watch(() => Promise.resolve());
    const result = await t.w.transaction(async (gate) => {
      const a = await gate(Promise.resolve(1));
      const b = await gate(later(60, 2));
      return a + b;
    });
    expect(result).toBe(3);
  });

  test("fails at once when a statement gets no answer, not waiting for a rollback nobody hears", async () => {
    const t = watch(never);
    const after = lazyStatement("not sent");
    let swallowed: unknown;
    const outcome = rejection(
      t.w.transaction(async (gate) => {
        await gate(Promise.resolve("first"));
        try {
          await gate(never());
        } catch (error) {
          swallowed = error;
        }
        // Hint: even code that went on after the failure cannot send another statement, so nothing commits.
        await gate(after);
        // The transaction's own end, as Bun.SQL's would be: its rollback waits on the silent database.
        return await never<string>();
      }),
    );
    const error = await outcome;
    expect(error.code).toBe(DATABASE_NO_ANSWER);
    expect((swallowed as { code?: string }).code).toBe(DATABASE_NO_ANSWER);
    await Bun.sleep(10);
    expect(after.sent).toBe(false);
  });

  test("a check that fails while its statements answer, one by one, in time: nothing more is sent and it cannot commit", async () => {
    // Hint: the first check fails (a slow or lost check connection), later ones answer.
    let checks = 0;
    const w = new AnswerWatch({
      deadlineMs: 20,
      checkMs: 20,
      check: () => (++checks === 1 ? Promise.reject(new Error("no answer")) : Promise.resolve()),
    });
    const sent: number[] = [];
    let committed = false;
    const outcome = rejection(
      w.transaction(async (gate) => {
        for (let i = 0; i < 12; i++) {
          const statement = lazyStatement(i, 10);
          try {
            await gate(statement);
          } finally {
            if (statement.sent) sent.push(i);
          }
        }
        committed = true;
      }),
    );
    expect((await outcome).code).toBe(DATABASE_NO_ANSWER);
    await Bun.sleep(200);
    expect(committed).toBe(false);
    expect(sent.length).toBeLessThan(12);
  });

  test("its begin and commit are watched too: a connection that never comes fails it", async () => {
    const t = watch(never);
    const error = await rejection(t.w.transaction(() => never()));
    expect(error.code).toBe(DATABASE_NO_ANSWER);
  });

  test("an error of its own (a constraint) passes through unchanged", async () => {
    const t = watch(() => Promise.resolve());
    const refused = Object.assign(new Error("foreign key"), { code: "23503" });
    const error = await rejection(
      t.w.transaction(async (gate) => {
        await gate(Promise.reject(refused));
      }),
    );
    expect(error).toBe(refused);
  });
});
