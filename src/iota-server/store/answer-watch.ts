/**
 * Telling a slow database from one that does not answer. A database cut off by the network (no reset, no
 * refusal) leaves a statement waiting for minutes, and its request with it, until the HTTP listener closes the
 * connection without an answer. A statement still waiting after the deadline is therefore given more time only
 * while the database answers a check on a connection of its own; otherwise it fails with
 * {@link DATABASE_NO_ANSWER}, which the service answers with a 503 a client retries, and the transaction it was
 * in fails with it.
 */

import { settleWithin } from "../../core/deadline.ts";

/** The error code of a statement the database did not answer (problem-response.ts answers it with a 503). */
export const DATABASE_NO_ANSWER = "IOTA_DATABASE_NO_ANSWER";

/** How long a statement waits before the database is checked: well inside the listener's 10 s idle timeout. */
export const ANSWER_DEADLINE_MS = 5_000;

/** How long the check may take: a trivial query, which a live database answers in milliseconds. */
export const CHECK_DEADLINE_MS = 2_000;

/** What an {@link AnswerWatch} needs: its two limits and a way to ask the database something trivial. */
export interface AnswerWatchOptions {
  /** How long a statement may wait before the database is checked, and again after each check it answered. */
  deadlineMs: number;
  /** How long the check may take. */
  checkMs: number;
  /** Asks the database a trivial question on a connection none of the waiting statements holds. */
  check: () => Promise<unknown>;
  /** Called after a check got no answer in time: its connection may be dead, and the next check should not wait behind it. */
  checkFailed?: () => void;
}

/** An error with code {@link DATABASE_NO_ANSWER}. */
export function noAnswer(deadlineMs: number, checkMs: number): Error & { code: string } {
  return Object.assign(
    new Error(
      `the database did not answer a statement within ${deadlineMs / 1000} s, nor a check within ${checkMs / 1000} s more`,
    ),
    { code: DATABASE_NO_ANSWER },
  );
}

/** Watches statements, and transactions of statements, for a database that stopped answering. */
export class AnswerWatch {
  private checking: Promise<boolean> | undefined;

  constructor(private readonly options: AnswerWatchOptions) {}

  /** Whether the database answered a check in time; one check at a time, shared by every statement waiting. */
  alive(): Promise<boolean> {
    if (!this.checking) {
      const answered = Promise.resolve()
        .then(this.options.check)
        .then(
          () => true,
          () => false,
        );
      this.checking = settleWithin(answered, this.options.checkMs, () => false).then((alive) => {
        this.checking = undefined;
        if (!alive) this.options.checkFailed?.();
        return alive;
      });
    }
    return this.checking;
  }

  /**
   * `work`'s outcome. Each time it has waited `deadlineMs`, the database is checked: while it answers, `work`
   * waits on; once it does not, this rejects with {@link DATABASE_NO_ANSWER} (`work` goes on, its outcome dropped).
   */
  async statement<T>(work: PromiseLike<T>): Promise<T> {
    const pending = Promise.resolve(work);
    for (;;) {
      const settled = await settleWithin(
        pending.then((value) => ({ value })),
        this.options.deadlineMs,
        () => undefined,
      );
      if (settled) return settled.value;
      if (!(await this.alive())) throw noAnswer(this.options.deadlineMs, this.options.checkMs);
    }
  }

  /**
   * Runs a transaction: `begin(gate)` starts it and resolves when it committed, and every statement it sends
   * goes through `gate`. The connection, the commit and the whole are watched like a statement. Once a
   * statement, or the whole, got no answer, the gate refuses every later statement of the transaction without
   * sending it and fails the one whose answer comes late, so the transaction cannot reach its commit; and this
   * rejects at once, without waiting for the rollback the database cannot hear either. Only a commit already
   * sent when the answers stopped can still take effect.
   */
  async transaction<T>(
    begin: (gate: <S>(statement: PromiseLike<S>) => Promise<S>) => Promise<T>,
  ): Promise<T> {
    let lost: Error | undefined;
    let abandon: (error: Error) => void = () => {};
    const abandoned = new Promise<never>((_, reject) => {
      abandon = reject;
    });
    const lose = (error: unknown): never => {
      if ((error as { code?: unknown }).code === DATABASE_NO_ANSWER && !lost) {
        lost = error as Error;
        abandon(lost);
      }
      throw error;
    };
    const gate = async <S>(statement: PromiseLike<S>): Promise<S> => {
      if (lost) throw lost;
      const answer = await this.statement(statement).catch(lose);
      if (lost) throw lost;
      return answer;
    };
    return await Promise.race([this.statement(begin(gate)).catch(lose), abandoned]);
  }
}
