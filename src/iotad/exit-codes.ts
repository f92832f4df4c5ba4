/** The exit status contract of `iotad`, relied on by scripts and service managers. */

import type { AttemptResult } from "./agent-state.ts";

/** Exit statuses (documented in `iotad --help` and the README). */
export const EXIT = {
  /** Success (`status`: the agent holds a valid certificate). */
  ok: 0,
  /** An unexpected internal failure. */
  internal: 1,
  /** The command line or the config file is wrong. */
  usage: 2,
  /** The service refused the request (bad token, revoked, unknown device...). */
  refused: 3,
  /** The service (or, for `status`, the local agent) could not be reached, or asked to come back later. */
  unreachable: 4,
  /** A local failure: the data folder cannot be used, or the status address is taken. */
  local: 5,
  /** No valid certificate (`status`; `renew` before provisioning). */
  noCertificate: 6,
} as const;

/** The exit status for the outcome of a one-shot provision or renew. */
export function exitCodeFor(result: AttemptResult): number {
  if (result.ok) return EXIT.ok;
  switch (result.failure.kind) {
    case "refused":
      return EXIT.refused;
    case "busy":
    case "unreachable":
      return EXIT.unreachable;
    case "local":
      return EXIT.local;
    case "unprovisioned":
      return EXIT.noCertificate;
  }
}
