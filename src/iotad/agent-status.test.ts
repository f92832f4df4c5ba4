import { describe, expect, test } from "bun:test";
import { VERSION } from "../core/version.ts";
import { type AgentState, INITIAL_STATE } from "./agent-state.ts";
import { agentSnapshot } from "./agent-status.ts";
import type { Identity } from "./identity.ts";

const T0 = Date.parse("2030-01-01T00:00:00.000Z");
const HOUR = 3600_000;
const ID: Identity = {
  keys: {} as CryptoKeyPair,
  certPem: "cert",
  keyPem: "-----BEGIN PRIVATE KEY----- secret",
  serial: "a1",
  notBefore: T0,
  notAfter: T0 + HOUR,
  first: true,
};
const SETTINGS = { group: "room2-lights", device: "test-device-123" };
const iso = (ms: number) => new Date(ms).toISOString();
const held = (patch: Partial<AgentState> = {}): AgentState => ({
  ...INITIAL_STATE,
  phase: { kind: "ready" },
  held: { identity: ID },
  activity: { kind: "waiting", at: T0 + 40 * 60_000, request: { kind: "renew", attempt: 1 } },
  ...patch,
});
const snap = (state: AgentState, now = T0 + 60_000) =>
  agentSnapshot(state, { settings: SETTINGS, now, skew: null });

describe("agent status snapshot", () => {
  test("a new agent: the fields /status has always had, in their order", () => {
    const s = snap(INITIAL_STATE);
    expect(Object.keys(s)).toEqual([
      "state",
      "group",
      "device",
      "serial",
      "notBefore",
      "notAfter",
      "nextRenewal",
      "lastRenewal",
      "lastError",
      "lastErrorAt",
      "clockSkewMs",
      "renewals",
      "renewalFailures",
      "certificateValid",
      "version",
    ]);
    expect(s).toMatchObject({ state: "unprovisioned", serial: null, certificateValid: false });
    expect(s.version).toBe(VERSION);
  });

  test("a held certificate waiting for its renewal; no key in the snapshot", () => {
    const s = agentSnapshot(
      held({
        history: {
          renewals: 2,
          renewalFailures: 1,
          lastRenewal: T0,
          lastError: { message: "service unreachable: down", at: T0 - 5_000 },
        },
      }),
      { settings: { ...SETTINGS, tenant: "acme" }, now: T0 + 60_000, skew: -1_500 },
    );
    expect(s).toEqual({
      state: "ready",
      group: "room2-lights",
      device: "test-device-123",
      serial: "a1",
      notBefore: iso(T0),
      notAfter: iso(T0 + HOUR),
      nextRenewal: iso(T0 + 40 * 60_000),
      lastRenewal: iso(T0),
      lastError: "service unreachable: down",
      lastErrorAt: iso(T0 - 5_000),
      clockSkewMs: -1_500,
      renewals: 2,
      renewalFailures: 1,
      certificateValid: true,
      version: VERSION,
      tenant: "acme",
    });
    expect(JSON.stringify(s)).not.toContain("PRIVATE KEY");
  });

  test("a certificate that ran out while waiting shows as expired and not valid", () => {
    const s = snap(held(), T0 + HOUR);
    expect(s.state).toBe("expired");
    expect(s.certificateValid).toBe(false);
  });

  test("a certificate that ran out between two renewal attempts shows as expired, not renewing", () => {
    const between = held({
      phase: { kind: "renewing", attempt: 5 },
      activity: {
        kind: "waiting",
        at: T0 + HOUR + 76_000,
        request: { kind: "renew", attempt: 6 },
      },
    });
    expect(snap(between, T0 + HOUR - 1).state).toBe("renewing");
    const s = snap(between, T0 + HOUR);
    expect(s.state).toBe("expired");
    expect(s.certificateValid).toBe(false);
    expect(s.nextRenewal).toBe(iso(T0 + HOUR + 76_000));
  });

  test("a clock before notBefore: not valid", () => {
    expect(snap(held(), T0 - 1).certificateValid).toBe(false);
  });

  test("a certificate whose renewal was refused is held but not valid", () => {
    const s = snap(held({ held: { identity: ID, refused: "a1 is revoked" } }));
    expect(s.serial).toBe("a1");
    expect(s.certificateValid).toBe(false);
  });

  test("an attempt in flight: its number is shown, no renewal is planned", () => {
    const s = snap(
      held({
        phase: { kind: "renewing", attempt: 3 },
        activity: { kind: "requesting", request: { kind: "renew", attempt: 3 }, after: "continue" },
      }),
    );
    expect(s.state).toBe("renewing");
    expect(s.attempt).toBe(3);
    expect(s.nextRenewal).toBeNull();
  });
});

describe("a device named by its hardware", () => {
  const naming = {
    from: "mac:eth0",
    prefix: "",
    resolved: "aa-bb-cc-00-11-22",
    problem: null,
    pinned: "aa-bb-cc-00-11-22",
  };
  const named = (n: typeof naming) =>
    agentSnapshot(held(), { settings: { ...SETTINGS, naming: n }, now: T0 + 60_000, skew: null });

  test("shows its source and the pinned name; no deviceSource for a literal name", () => {
    expect(named(naming).deviceSource).toEqual({ ...naming, mismatch: false, warning: null });
    expect(snap(held()).deviceSource).toBeUndefined();
  });

  test("a source that now gives another name is a mismatch with a warning; the name stays", () => {
    const s = named({ ...naming, resolved: "aa-bb-cc-99-99-99" });
    expect(s.device).toBe("test-device-123");
    expect(s.deviceSource?.mismatch).toBe(true);
    expect(s.deviceSource?.warning).toContain(
      "mac:eth0 now gives aa-bb-cc-99-99-99, but this device was provisioned as aa-bb-cc-00-11-22",
    );
  });
});
