/** The exit status contract of `iotad`, relied on by scripts and service managers: one table. */

import type { AttemptResult } from "./agent-state.ts";

/**
 * Every exit status: its number and its meaning. `EXIT`, the "Exit status" part of `iotad --help`
 * and the README's list are all this table (a test holds the README to it).
 */
export const EXIT_STATUSES = {
  ok: { code: 0, meaning: "success (status: a valid certificate is held)" },
  internal: { code: 1, meaning: "unexpected internal failure" },
  usage: {
    code: 2,
    meaning: "the command line or the config file is wrong (each error names the file and field)",
  },
  refused: {
    code: 3,
    meaning: "the service refused (wrong token or secret, unknown or revoked device, ...)",
  },
  unreachable: {
    code: 4,
    meaning:
      "the service (for status: the local agent) is unreachable, or busy and asked to retry later",
  },
  local: {
    code: 5,
    meaning:
      "local failure: the data folder cannot be used, holds another device's certificate or is in use by another iotad process, the status address is taken, or (provision, renew) an agent is running for the device",
  },
  noCertificate: { code: 6, meaning: "no valid certificate (status; renew before provisioning)" },
} as const;

type Table = typeof EXIT_STATUSES;

/** Exit statuses by name. */
export const EXIT = Object.fromEntries(
  Object.entries(EXIT_STATUSES).map(([name, { code }]) => [name, code]),
) as { readonly [Name in keyof Table]: Table[Name]["code"] };

/** The "Exit status" part of `iotad --help`. */
export const EXIT_STATUS_HELP = `Exit status:\n${Object.values(EXIT_STATUSES)
  .map(({ code, meaning }) => `  ${code}  ${meaning}\n`)
  .join("")}`;

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
