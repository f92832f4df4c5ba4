import { describe, expect, test } from "bun:test";
import { DEFAULT_BACKOFF, renewalTime, serialRandom } from "../core/renewal.ts";
import type { AgentEvent, Effect } from "./agent-events.ts";
import {
  BROKER_CHECK_INTERVAL,
  type MachineConfig,
  next,
  REFUSED_BACKOFF,
} from "./agent-machine.ts";
import { type AgentState, type AttemptResult, INITIAL_STATE } from "./agent-state.ts";
import type { Identity } from "./identity.ts";

const POLICY = { fraction: 2 / 3, jitter: 1 / 20, spreadFirst: true };
const CONFIG: MachineConfig = {
  group: "room2-lights",
  device: "test-device-123",
  renewal: POLICY,
  backoff: DEFAULT_BACKOFF,
  refusedBackoff: REFUSED_BACKOFF,
  brokerCheckInterval: BROKER_CHECK_INTERVAL,
};
const DAY = 86_400_000;
const MIN = 60_000;
const T0 = Date.parse("2030-01-01T00:00:00.000Z");

function cert(serial: string, notBefore: number): Identity {
  return {
    keys: {} as CryptoKeyPair,
    certPem: `cert ${serial}`,
    keyPem: `key ${serial}`,
    serial,
    notBefore,
    notAfter: notBefore + 30 * DAY,
    first: false,
  };
}
const A = cert("a1", T0);
const B = cert("b2", T0 + DAY);
const C = cert("c3", T0 + DAY);

/** A device holding `identity`, ready, its renewal days away. */
function ready(identity: Identity): AgentState {
  const at = renewalTime(identity, POLICY, serialRandom(identity.serial), false);
  return {
    ...INITIAL_STATE,
    phase: { kind: "ready" },
    held: { identity },
    activity: { kind: "waiting", at, request: { kind: "renew", attempt: 1 } },
  };
}
const refused = (serial: string, now: number): AgentEvent => ({
  kind: "broker-refused",
  serial,
  now,
});
const answer = (result: AttemptResult, now: number): AgentEvent => ({
  kind: "answered",
  result,
  now,
  draw: 0.5,
});
const REVOKED: AttemptResult = {
  ok: false,
  failure: { kind: "refused", status: 403, message: "certificate a1 is revoked" },
};
const requests = (effects: Effect[]) =>
  effects.filter((e) => e.kind === "renew" || e.kind === "provision").map((e) => e.kind);

/** Feeds `events` in order; the state after them and every request they made. */
function play(start: AgentState, events: AgentEvent[]) {
  let s = start;
  const made: string[] = [];
  for (const event of events) {
    const t = next(s, event, CONFIG);
    s = t.state;
    made.push(...requests(t.effects));
  }
  return { state: s, made };
}

describe("agent machine: the broker refuses the certificate in use", () => {
  test("the first refusal renews at once (cancelling the planned renewal), as SIGHUP does", () => {
    const t = next(ready(A), refused("a1", T0 + DAY), CONFIG);
    expect(t.state.phase).toEqual({ kind: "renewing", attempt: 1 });
    expect(t.state.activity).toEqual({
      kind: "requesting",
      request: { kind: "renew", attempt: 1 },
      after: "continue",
    });
    expect(t.state.broker).toEqual({ checkedAt: T0 + DAY, checking: true, vouched: undefined });
    expect(t.effects.filter((e) => e.kind !== "log")).toEqual([
      { kind: "cancel" },
      { kind: "renew", attempt: 1, current: A },
    ]);
    expect(t.effects).toContainEqual({
      kind: "log",
      level: "warn",
      message:
        "the MQTT broker refused certificate a1; renewing now to learn whether the service still accepts it",
    });
  });

  test("revoked: the renewal is refused, provisioning is refused too: error, and no more checks", () => {
    const now = T0 + DAY;
    const provisionRefused: AttemptResult = {
      ok: false,
      failure: { kind: "refused", status: 403, message: "test-device-123 is revoked" },
    };
    const { state: s, made } = play(ready(A), [
      refused("a1", now),
      answer(REVOKED, now + 1_000),
      answer(provisionRefused, now + 2_000),
      refused("a1", now + 3_000),
      refused("a1", now + BROKER_CHECK_INTERVAL + 3_000),
      refused("a1", now + 5 * BROKER_CHECK_INTERVAL),
    ]);
    expect(made).toEqual(["renew", "provision"]);
    expect(s.phase.kind).toBe("error");
    expect(s.phase.kind === "error" && s.phase.reason).toContain("certificate a1 is revoked");
    expect(s.held?.refused).toBe("certificate a1 is revoked");
    expect(s.broker.checking).toBe(false);
    // The slow provisioning retry (a reset device comes back on it) is all that is planned.
    expect(s.activity).toMatchObject({ kind: "waiting", request: { kind: "provision" } });
  });

  test("reset: the refused renewal leads to provisioning at once; ready again with no stale lastError", () => {
    const now = T0 + DAY;
    const { state: s, made } = play(ready(A), [
      refused("a1", now),
      answer(REVOKED, now + 1_000),
      answer({ ok: true, identity: B }, now + 2_000),
    ]);
    expect(made).toEqual(["renew", "provision"]);
    expect(s.phase).toEqual({ kind: "ready" });
    expect(s.held).toEqual({ identity: B });
    expect(s.history.lastError).toBeUndefined();
    expect(s.broker).toEqual({ checkedAt: now, checking: false, vouched: "b2" });
  });

  test("refusals continue while a check is in flight, or while renewing after one failed: no second request", () => {
    const now = T0 + DAY;
    const down: AttemptResult = { ok: false, failure: { kind: "unreachable", message: "down" } };
    const { state: s, made } = play(ready(A), [
      refused("a1", now),
      refused("a1", now + 1_000),
      answer(down, now + 2_000),
      refused("a1", now + BROKER_CHECK_INTERVAL + 5_000),
    ]);
    expect(made).toEqual(["renew"]);
    expect(s.phase).toEqual({ kind: "renewing", attempt: 1 });
  });

  test("backoff: refusals of a certificate the service vouched for never renew again until the broker accepts it", () => {
    // A misconfigured broker: the service renews A (fine), the broker refuses B as well.
    const now = T0 + DAY;
    const checked = play(ready(A), [
      refused("a1", now),
      answer({ ok: true, identity: B }, now + 1),
    ]);
    expect(checked.state.broker.vouched).toBe("b2");
    const later = [1, 10, 11, 60, 600].map((m) => refused("b2", now + m * MIN));
    const churn = play(checked.state, later);
    expect(churn.made).toEqual([]);
    expect(churn.state.held?.identity).toBe(B);
    // Accepted once, a later refusal is news again (after the interval since the last check).
    const again = play(churn.state, [
      { kind: "broker-accepted", serial: "b2" },
      refused("b2", now + 601 * MIN),
    ]);
    expect(again.made).toEqual(["renew"]);
  });

  test("backoff: at most one check per interval, counted from the last check, whatever the episode", () => {
    const now = T0 + DAY;
    // Checked; the broker accepted the new certificate, then refuses it 2 minutes later.
    const start = play(ready(A), [
      refused("a1", now),
      answer({ ok: true, identity: B }, now + 1),
      { kind: "broker-accepted", serial: "b2" },
    ]).state;
    const early = play(start, [refused("b2", now + 2 * MIN), refused("b2", now + 9 * MIN)]);
    expect(early.made).toEqual([]);
    const due = play(early.state, [refused("b2", now + BROKER_CHECK_INTERVAL)]);
    expect(due.made).toEqual(["renew"]);
    expect(due.state.broker.checkedAt).toBe(now + BROKER_CHECK_INTERVAL);
  });

  test("a clock set back since the last check does not block the next one", () => {
    const s: AgentState = {
      ...ready(A),
      broker: { checkedAt: T0 + 5 * DAY, checking: false, vouched: undefined },
    };
    expect(play(s, [refused("a1", T0 + DAY)]).made).toEqual(["renew"]);
  });

  test("ignored: another certificate's refusal, an error state, nothing held, a one-shot command's idle agent", () => {
    const now = T0 + DAY;
    const errored: AgentState = {
      ...ready(A),
      phase: { kind: "error", reason: "revoked" },
      held: { identity: A, refused: "revoked" },
    };
    const idle: AgentState = { ...ready(A), activity: { kind: "idle" } };
    for (const s of [ready(C), errored, INITIAL_STATE, idle]) {
      const t = next(s, refused("a1", now), CONFIG);
      expect(t).toEqual({ state: s, effects: [] });
    }
  });

  test("accepted without a vouched certificate changes nothing", () => {
    const s = ready(A);
    expect(next(s, { kind: "broker-accepted", serial: "a1" }, CONFIG).state).toBe(s);
  });
});

describe("agent machine: lastError describes the present", () => {
  test("a renewal that succeeds after failures clears lastError (the counters keep the history)", () => {
    const failing: AgentState = {
      ...ready(A),
      phase: { kind: "renewing", attempt: 2 },
      activity: { kind: "requesting", request: { kind: "renew", attempt: 2 }, after: "continue" },
      history: {
        renewals: 0,
        renewalFailures: 1,
        lastRenewal: undefined,
        lastError: { message: "service unreachable: down", at: T0 },
      },
    };
    const { state: s } = play(failing, [answer({ ok: true, identity: B }, T0 + MIN)]);
    expect(s.history).toEqual({
      renewals: 1,
      renewalFailures: 1,
      lastRenewal: T0 + MIN,
      lastError: undefined,
    });
  });

  test("provisioning that succeeds after a refusal clears lastError", () => {
    const errored: AgentState = {
      ...INITIAL_STATE,
      phase: { kind: "provisioning", attempt: 3 },
      activity: {
        kind: "requesting",
        request: { kind: "provision", attempt: 3 },
        after: "continue",
      },
      history: { ...INITIAL_STATE.history, lastError: { message: "refused: revoked", at: T0 } },
    };
    const { state: s } = play(errored, [answer({ ok: true, identity: B }, T0 + MIN)]);
    expect(s.phase).toEqual({ kind: "ready" });
    expect(s.history.lastError).toBeUndefined();
  });
});
