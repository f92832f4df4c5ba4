import { describe, expect, test } from "bun:test";
import { DEFAULT_BACKOFF, renewalTime, serialRandom } from "../core/renewal.ts";
import type { AgentEvent, Effect } from "./agent-events.ts";
import {
  BROKER_CHECK_INTERVAL,
  type MachineConfig,
  next,
  nothingToRenew,
  REFUSED_BACKOFF,
} from "./agent-machine.ts";
import { RESET_ADVICE, SQUAT_ADVICE, UNREGISTERED_ADVICE } from "./agent-messages.ts";
import {
  type AgentState,
  type AttemptFailure,
  type AttemptResult,
  INITIAL_STATE,
  type Request,
} from "./agent-state.ts";
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
const HOUR = 3600_000;
const T0 = Date.parse("2030-01-01T00:00:00.000Z");

/** A certificate as the machine sees it (it never touches the keys). */
function cert(serial: string, notBefore: number, first: boolean): Identity {
  return {
    keys: {} as CryptoKeyPair,
    certPem: `cert ${serial}`,
    keyPem: `key ${serial}`,
    serial,
    notBefore,
    notAfter: notBefore + HOUR,
    first,
  };
}
const OLD = cert("a1", T0, true);
const NEW = cert("b2", T0 + 40 * 60_000, false);
const planned = (id: Identity) => renewalTime(id, POLICY, serialRandom(id.serial), id.first);

const state = (patch: Partial<AgentState>): AgentState => ({ ...INITIAL_STATE, ...patch });
/** A request in flight, as the daemon's cycle runs it. */
const inFlight = (kind: Request["kind"], attempt: number, patch: Partial<AgentState> = {}) =>
  state({
    phase: kind === "provision" ? { kind: "provisioning", attempt } : { kind: "renewing", attempt },
    activity: { kind: "requesting", request: { kind, attempt }, after: "continue" },
    ...(kind === "renew" ? { held: { identity: OLD } } : {}),
    ...patch,
  });
/** A held certificate waiting for its planned renewal. */
const ready = (identity: Identity = OLD): AgentState =>
  state({
    phase: { kind: "ready" },
    held: { identity },
    activity: { kind: "waiting", at: planned(identity), request: { kind: "renew", attempt: 1 } },
  });
const answer = (result: AttemptResult, now = T0 + 10 * 60_000, draw = 0.5): AgentEvent => ({
  kind: "answered",
  result,
  now,
  draw,
});
const fail = (failure: AttemptFailure): AttemptResult => ({ ok: false, failure });
const run = (s: AgentState, event: AgentEvent) => next(s, event, CONFIG);
const logs = (effects: Effect[]) =>
  effects.flatMap((e) => (e.kind === "log" ? [`${e.level} ${e.message}`] : []));
const acts = (effects: Effect[]): Effect[] => effects.filter((e) => e.kind !== "log");

describe("agent machine: start", () => {
  test("nothing held: provisioning attempt 1 is sent", () => {
    const { state: s, effects } = run(INITIAL_STATE, { kind: "start", now: T0, pendingKey: false });
    expect(s.phase).toEqual({ kind: "provisioning", attempt: 1 });
    expect(s.activity).toEqual({
      kind: "requesting",
      request: { kind: "provision", attempt: 1 },
      after: "continue",
    });
    expect(logs(effects)).toEqual(["info provisioning room2-lights/test-device-123 (attempt 1)"]);
    expect(acts(effects)).toEqual([{ kind: "provision", attempt: 1, replacing: undefined }]);
  });

  test("a held certificate: its renewal is planned from the certificate alone", () => {
    const loaded = state({ phase: { kind: "ready" }, held: { identity: OLD } });
    const { state: s, effects } = run(loaded, {
      kind: "start",
      now: T0 + 60_000,
      pendingKey: false,
    });
    const at = planned(OLD);
    expect(s).toEqual(ready());
    expect(acts(effects)).toEqual([
      { kind: "schedule", at, request: { kind: "renew", attempt: 1 } },
    ]);
    expect(logs(effects)).toEqual([
      `info certificate a1 valid until ${new Date(OLD.notAfter).toISOString()}; renewal planned at ${new Date(at).toISOString()}`,
    ]);
  });

  test("a pending key: renewing at once fetches what the service may already have issued", () => {
    const loaded = state({ phase: { kind: "ready" }, held: { identity: OLD } });
    const { state: s, effects } = run(loaded, {
      kind: "start",
      now: T0 + 60_000,
      pendingKey: true,
    });
    expect(s.phase).toEqual({ kind: "renewing", attempt: 1 });
    expect(logs(effects)[0]).toBe(
      "info a renewal was interrupted before its answer was saved; renewing now",
    );
    expect(acts(effects)).toEqual([{ kind: "renew", attempt: 1, current: OLD }]);
  });

  test("a clock before notBefore: renewing at once, with a warning naming the clock", () => {
    const loaded = state({ phase: { kind: "ready" }, held: { identity: OLD } });
    const now = T0 - 3 * HOUR;
    const { state: s, effects } = run(loaded, { kind: "start", now, pendingKey: false });
    expect(s.phase).toEqual({ kind: "renewing", attempt: 1 });
    expect(logs(effects)[0]).toBe(
      `warn the clock (${new Date(now).toISOString()}) is before the certificate's notBefore; renewing now to learn the service's time`,
    );
    expect(acts(effects)).toEqual([{ kind: "renew", attempt: 1, current: OLD }]);
  });

  test("a second start changes nothing", () => {
    const s = ready();
    expect(run(s, { kind: "start", now: T0, pendingKey: true })).toEqual({ state: s, effects: [] });
  });
});

describe("agent machine: loading the data folder", () => {
  test("empty: still unprovisioned", () => {
    const found = { kind: "empty" } as const;
    expect(run(INITIAL_STATE, { kind: "recovered", found, now: T0 })).toEqual({
      state: INITIAL_STATE,
      effects: [],
    });
  });

  test("a certificate: ready, and the listeners hear it was loaded", () => {
    const found = { kind: "held", identity: OLD } as const;
    const { state: s, effects } = run(INITIAL_STATE, { kind: "recovered", found, now: T0 });
    expect(s.phase).toEqual({ kind: "ready" });
    expect(s.held).toEqual({ identity: OLD });
    expect(effects).toEqual([{ kind: "use", identity: OLD, cause: "loaded" }]);
  });

  test("broken: an error naming the folder, and the key on disk adopted for provisioning", () => {
    const found = { kind: "broken", reason: "cert.pem is not a PEM certificate" } as const;
    const { state: s, effects } = run(INITIAL_STATE, { kind: "recovered", found, now: T0 });
    const reason =
      "data folder: cert.pem is not a PEM certificate; provisioning again with the device's key";
    expect(s.phase).toEqual({ kind: "error", reason });
    expect(s.history.lastError).toEqual({ message: reason, at: T0 });
    expect(effects).toEqual([
      { kind: "log", level: "warn", message: reason },
      { kind: "adopt-current-key" },
    ]);
    expect(nothingToRenew(s)).toEqual({ kind: "local", message: reason });
  });

  test("another device's certificate: an error naming it, and nothing requested ever, not even on SIGHUP", () => {
    const reason =
      "data folder /d holds the certificate of default/g/dev-4 (serial a1), but the config names g/dev-5";
    const found = { kind: "foreign", reason } as const;
    const { state: s, effects } = run(INITIAL_STATE, { kind: "recovered", found, now: T0 });
    expect(s.phase).toEqual({ kind: "error", reason });
    expect(s.held).toBeUndefined();
    expect(s.history.lastError).toEqual({ message: reason, at: T0 });
    expect(effects).toEqual([{ kind: "log", level: "error", message: reason }]);
    expect(run(s, { kind: "start", now: T0, pendingKey: false })).toEqual({
      state: s,
      effects: [],
    });
    expect(run(s, { kind: "renew-now", now: T0 }).effects).toEqual([
      { kind: "log", level: "warn", message: `renew-now ignored: ${reason}` },
    ]);
    expect(nothingToRenew(s)).toEqual({ kind: "local", message: reason });
  });

  test("renewing with nothing held says to provision first", () => {
    expect(nothingToRenew(INITIAL_STATE)).toEqual({
      kind: "unprovisioned",
      message: "there is no certificate to renew yet; run `iotad provision` first",
    });
  });
});

describe("agent machine: provisioning answers", () => {
  test("ok: ready, the listeners hear it, and the first renewal is planned (spread wide)", () => {
    const { state: s, effects } = run(
      inFlight("provision", 2),
      answer({ ok: true, identity: OLD }),
    );
    expect(s).toEqual(ready());
    expect(acts(effects)).toEqual([
      { kind: "use", identity: OLD, cause: "provisioned" },
      { kind: "schedule", at: planned(OLD), request: { kind: "renew", attempt: 1 } },
    ]);
    expect(logs(effects)[0]).toBe("info provisioned: certificate a1");
  });

  const NOW = T0 + 10 * 60_000;
  // [case, failure, phase, lastError, delay of the retry, effects before the log]
  const failures: [string, AttemptFailure, AgentState["phase"], string, number, Effect[]][] = [
    [
      "refused (409): the name holds another key, possible squatting; the adopted key is dropped; retried slowly",
      { kind: "refused", status: 409, message: "the device holds another key" },
      {
        kind: "error",
        reason: `the service refused provisioning: the device holds another key; ${SQUAT_ADVICE}`,
      },
      `the service refused provisioning: the device holds another key; ${SQUAT_ADVICE}`,
      45_000,
      [{ kind: "discard-adopted-key" }],
    ],
    [
      "refused (404): the name is not registered; retried slowly",
      { kind: "refused", status: 404, message: "no device named dev-1" },
      {
        kind: "error",
        reason: `the service refused provisioning: no device named dev-1; ${UNREGISTERED_ADVICE}`,
      },
      `the service refused provisioning: no device named dev-1; ${UNREGISTERED_ADVICE}`,
      45_000,
      [{ kind: "discard-adopted-key" }],
    ],
    [
      "refused (403): error until a reset",
      { kind: "refused", status: 403, message: "the device is revoked" },
      {
        kind: "error",
        reason: `the service refused provisioning: the device is revoked; ${RESET_ADVICE}`,
      },
      `the service refused provisioning: the device is revoked; ${RESET_ADVICE}`,
      45_000,
      [{ kind: "discard-adopted-key" }],
    ],
    [
      "refused (401): the error names the credential",
      { kind: "refused", status: 401, message: "bad token" },
      {
        kind: "error",
        reason: "the service refused provisioning: bad token; check the device's token or secret",
      },
      "the service refused provisioning: bad token; check the device's token or secret",
      45_000,
      [{ kind: "discard-adopted-key" }],
    ],
    [
      "busy with Retry-After: still provisioning, retried no earlier than asked",
      { kind: "busy", status: 429, message: "slow down", retryAfterMs: 120_000 },
      { kind: "provisioning", attempt: 1 },
      "service busy: slow down",
      120_000,
      [],
    ],
    [
      "unreachable: still provisioning, retried with the network backoff",
      { kind: "unreachable", message: "connect ECONNREFUSED" },
      { kind: "provisioning", attempt: 1 },
      "service unreachable: connect ECONNREFUSED",
      3_750,
      [],
    ],
    [
      "a local failure: an error naming the data folder, retried with the network backoff",
      { kind: "local", message: "ENOSPC: no space left on device" },
      { kind: "error", reason: "data folder: ENOSPC: no space left on device" },
      "data folder: ENOSPC: no space left on device",
      3_750,
      [],
    ],
  ];
  for (const [name, failure, phase, lastError, delay, first] of failures) {
    test(name, () => {
      const { state: s, effects } = run(inFlight("provision", 1), answer(fail(failure), NOW));
      const again = { kind: "provision", attempt: 2 } as const;
      expect(s.phase).toEqual(phase);
      expect(s.history.lastError).toEqual({ message: lastError, at: NOW });
      expect(s.activity).toEqual({ kind: "waiting", at: NOW + delay, request: again });
      expect(acts(effects)).toEqual([
        ...first,
        { kind: "schedule", at: NOW + delay, request: again },
      ]);
      expect(logs(effects)).toEqual([
        `warn ${lastError}`,
        `info retrying in ${Math.round(delay / 1000)} s (attempt 2)`,
      ]);
      expect(s.history.renewalFailures).toBe(0);
    });
  }

  test("retries back off with the attempt number, capped", () => {
    const unreachable = fail({ kind: "unreachable", message: "down" });
    const delay = (attempt: number) => {
      const { state: s } = run(inFlight("provision", attempt), answer(unreachable, T0, 0.5));
      return s.activity.kind === "waiting" ? s.activity.at - T0 : Number.NaN;
    };
    expect([1, 2, 3, 4].map(delay)).toEqual([3_750, 7_500, 15_000, 30_000]);
    expect(delay(40)).toBe(DEFAULT_BACKOFF.maxDelay * 0.75);
  });
});

describe("agent machine: renewal answers", () => {
  const NOW = T0 + 41 * 60_000;

  test("ok: ready with the new certificate, counted, and the next renewal planned", () => {
    const { state: s, effects } = run(
      inFlight("renew", 1),
      answer({ ok: true, identity: NEW }, NOW),
    );
    expect(s.phase).toEqual({ kind: "ready" });
    expect(s.held).toEqual({ identity: NEW });
    expect(s.history).toMatchObject({ renewals: 1, renewalFailures: 0, lastRenewal: NOW });
    expect(s.activity).toEqual({
      kind: "waiting",
      at: planned(NEW),
      request: { kind: "renew", attempt: 1 },
    });
    expect(acts(effects)).toEqual([
      { kind: "use", identity: NEW, cause: "renewed" },
      { kind: "schedule", at: planned(NEW), request: { kind: "renew", attempt: 1 } },
    ]);
    expect(logs(effects)[0]).toBe("info renewed: certificate b2 replaces a1");
  });

  test("busy: still renewing with the old certificate, counted, retried", () => {
    const busy = fail({ kind: "busy", status: 503, message: "overloaded" });
    const { state: s, effects } = run(inFlight("renew", 2), answer(busy, NOW));
    expect(s.phase).toEqual({ kind: "renewing", attempt: 2 });
    expect(s.held).toEqual({ identity: OLD });
    expect(s.history).toMatchObject({ renewals: 0, renewalFailures: 1 });
    expect(s.history.lastError).toEqual({ message: "service busy: overloaded", at: NOW });
    expect(acts(effects)).toEqual([
      { kind: "schedule", at: NOW + 7_500, request: { kind: "renew", attempt: 3 } },
    ]);
  });

  test("a failure after notAfter: expired, and renewal keeps being retried", () => {
    const down = fail({ kind: "unreachable", message: "down" });
    const { state: s } = run(inFlight("renew", 1), answer(down, OLD.notAfter));
    expect(s.phase).toEqual({ kind: "expired", attempt: 1 });
    expect(s.activity).toMatchObject({ kind: "waiting", request: { kind: "renew", attempt: 2 } });
  });

  test("the planned time coming after notAfter starts the renewal as expired", () => {
    const waiting = state({
      phase: { kind: "renewing", attempt: 1 },
      held: { identity: OLD },
      activity: { kind: "waiting", at: OLD.notAfter, request: { kind: "renew", attempt: 2 } },
    });
    const { state: s, effects } = run(waiting, { kind: "due", now: OLD.notAfter + 1 });
    expect(s.phase).toEqual({ kind: "expired", attempt: 2 });
    expect(effects).toEqual([
      { kind: "log", level: "info", message: "renewing certificate a1 (attempt 2)" },
      { kind: "renew", attempt: 2, current: OLD },
    ]);
  });

  test("refused: provisioning is sent at once, and no advice is given before its answer", () => {
    const refused = fail({ kind: "refused", status: 403, message: "a1 is revoked" });
    const { state: s, effects } = run(inFlight("renew", 1), answer(refused, NOW));
    const reason = "the service refused renewal: a1 is revoked; provisioning again";
    expect(s.held).toEqual({ identity: OLD, refused: "a1 is revoked" });
    expect(s.history).toMatchObject({
      renewalFailures: 1,
      lastError: { message: reason, at: NOW },
    });
    expect(s.phase).toEqual({ kind: "provisioning", attempt: 1 });
    expect(logs(effects)).toEqual([
      `warn ${reason}`,
      "info provisioning room2-lights/test-device-123 (attempt 1)",
    ]);
    expect(acts(effects)).toEqual([{ kind: "provision", attempt: 1, replacing: OLD }]);
  });
});

describe("agent machine: after a refused renewal", () => {
  const refusedHeld = { identity: OLD, refused: "a1 is revoked" };
  const NOW = T0 + 20 * 60_000;

  test("provisioning refused too: both refusals named, retried slowly", () => {
    const provisioning = inFlight("provision", 1, { held: refusedHeld });
    const conflict = fail({ kind: "refused", status: 409, message: "another key" });
    const { state: s, effects } = run(provisioning, answer(conflict, NOW));
    const reason = `the service refused renewal: a1 is revoked; provisioning again was refused too: another key; ${RESET_ADVICE}`;
    expect(s.phase).toEqual({ kind: "error", reason });
    expect(s.held).toEqual(refusedHeld);
    expect(acts(effects)).toEqual([
      { kind: "discard-adopted-key" },
      { kind: "withdraw", serial: "a1" },
      { kind: "schedule", at: NOW + 45_000, request: { kind: "provision", attempt: 2 } },
    ]);
  });

  test("the refused certificate is withdrawn only once provisioning is refused too: a reset device just uses its new one", () => {
    const provisioning = inFlight("provision", 1, { held: refusedHeld });
    const reset = run(provisioning, answer({ ok: true, identity: NEW }, NOW));
    expect(reset.effects.some((e) => e.kind === "withdraw")).toBe(false);
    expect(acts(reset.effects)[0]).toEqual({ kind: "use", identity: NEW, cause: "provisioned" });
    const away = run(provisioning, answer(fail({ kind: "unreachable", message: "down" }), NOW));
    expect(away.effects.some((e) => e.kind === "withdraw")).toBe(false);
    // A device that never held a certificate has nothing to withdraw.
    const fresh = run(
      inFlight("provision", 1),
      answer(fail({ kind: "refused", status: 403, message: "revoked" }), NOW),
    );
    expect(fresh.effects.some((e) => e.kind === "withdraw")).toBe(false);
  });

  test("the advice follows the provisioning answer: a deleted device must be created again, a revoked one reset", () => {
    const provisioning = inFlight("provision", 1, { held: refusedHeld });
    const cases = [
      { status: 404, message: "No device named x", advice: UNREGISTERED_ADVICE },
      { status: 403, message: "Device x is revoked", advice: RESET_ADVICE },
      { status: 409, message: "its certificate expired", advice: RESET_ADVICE },
      { status: 401, message: "bad token", advice: "check the device's token or secret" },
    ];
    for (const { status, message, advice } of cases) {
      const { state: s } = run(
        provisioning,
        answer(fail({ kind: "refused", status, message }), NOW),
      );
      expect(s.phase).toEqual({
        kind: "error",
        reason: `the service refused renewal: a1 is revoked; provisioning again was refused too: ${message}; ${advice}`,
      });
    }
  });

  test("renew-now provisions again instead of renewing the refused certificate", () => {
    const waiting = state({
      phase: { kind: "error", reason: "refused" },
      held: refusedHeld,
      activity: { kind: "waiting", at: NOW, request: { kind: "provision", attempt: 4 } },
    });
    const { state: s, effects } = run(waiting, { kind: "renew-now", now: NOW - 1 });
    expect(s.phase).toEqual({ kind: "provisioning", attempt: 1 });
    expect(acts(effects)).toEqual([
      { kind: "cancel" },
      { kind: "provision", attempt: 1, replacing: OLD },
    ]);
  });

  test("provisioning ok after the reset: the refusal is gone with the old certificate", () => {
    const provisioning = inFlight("provision", 5, { held: refusedHeld });
    const back = cert("c3", NOW, true);
    const { state: s } = run(provisioning, answer({ ok: true, identity: back }, NOW));
    expect(s.held).toEqual({ identity: back });
    expect(s.phase).toEqual({ kind: "ready" });
  });
});

describe("agent machine: renew-now, stop, one-shot attempts", () => {
  test("renew-now while a request is in flight is ignored, with a log line", () => {
    const busy = inFlight("renew", 1);
    expect(run(busy, { kind: "renew-now", now: T0 })).toEqual({
      state: busy,
      effects: [
        {
          kind: "log",
          level: "info",
          message: "a request to the service is already running; renew-now ignored",
        },
      ],
    });
  });

  test("renew-now while waiting cancels the plan and renews at once", () => {
    const { state: s, effects } = run(ready(), { kind: "renew-now", now: T0 + 60_000 });
    expect(s.activity).toEqual({
      kind: "requesting",
      request: { kind: "renew", attempt: 1 },
      after: "continue",
    });
    expect(acts(effects)).toEqual([
      { kind: "cancel" },
      { kind: "renew", attempt: 1, current: OLD },
    ]);
  });

  test("stop while waiting cancels the timer; renew-now afterwards is ignored", () => {
    const { state: s, effects } = run(ready(), { kind: "stop" });
    expect(s.activity).toEqual({ kind: "stopped" });
    expect(effects).toEqual([{ kind: "cancel" }]);
    const after = run(s, { kind: "renew-now", now: T0 });
    expect(after.state).toBe(s);
    expect(acts(after.effects)).toEqual([]);
    expect(run(s, { kind: "due", now: T0 + HOUR })).toEqual({ state: s, effects: [] });
  });

  test("stop while a request is in flight: its answer is still taken in, nothing is planned", () => {
    const { state: stopping, effects } = run(inFlight("renew", 1), { kind: "stop" });
    expect(effects).toEqual([]);
    const ok = run(stopping, answer({ ok: true, identity: NEW }));
    expect(ok.state).toMatchObject({ held: { identity: NEW }, activity: { kind: "stopped" } });
    expect(acts(ok.effects)).toEqual([{ kind: "use", identity: NEW, cause: "renewed" }]);
    const refused = run(
      stopping,
      answer(fail({ kind: "refused", status: 403, message: "revoked" })),
    );
    expect(refused.state.phase.kind).toBe("error");
    expect(refused.state.activity).toEqual({ kind: "stopped" });
    expect(acts(refused.effects)).toEqual([]);
  });

  test("a one-shot attempt on an idle agent plans nothing after its answer", () => {
    const loaded = state({ phase: { kind: "ready" }, held: { identity: OLD } });
    const once = run(loaded, { kind: "attempt-once", request: "renew", now: T0 + 60_000 });
    expect(once.state.activity).toEqual({
      kind: "requesting",
      request: { kind: "renew", attempt: 1 },
      after: "hold",
    });
    const down = run(once.state, answer(fail({ kind: "unreachable", message: "down" })));
    expect(down.state.activity).toEqual({ kind: "idle" });
    expect(down.state.phase).toEqual({ kind: "renewing", attempt: 1 });
    expect(acts(down.effects)).toEqual([]);
  });

  test("a one-shot renewal with nothing held, or while a request runs, starts nothing", () => {
    const none = run(INITIAL_STATE, { kind: "attempt-once", request: "renew", now: T0 });
    expect(none).toEqual({ state: INITIAL_STATE, effects: [] });
    const busy = inFlight("provision", 1);
    const during = run(busy, { kind: "attempt-once", request: "provision", now: T0 });
    expect(during).toEqual({ state: busy, effects: [] });
  });

  test("a stale timer or answer changes nothing", () => {
    const s = ready();
    expect(run(s, answer({ ok: true, identity: NEW }))).toEqual({ state: s, effects: [] });
    const busy = inFlight("renew", 1);
    expect(run(busy, { kind: "due", now: T0 })).toEqual({ state: busy, effects: [] });
  });
});
