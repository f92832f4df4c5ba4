/** The agent's words: every log line it writes and every `lastError` it shows, in one place. */

import type { AttemptFailure } from "./agent-state.ts";
import type { Identity } from "./identity.ts";

const iso = (ms: number) => new Date(ms).toISOString();

/** What a refused device needs, in the words of its status and log. */
export const RESET_ADVICE =
  "the device must be reset by an operator (iotactl reset device) and provisioned again, which it then does by itself";

/**
 * What a device refused with 409 at provisioning needs: its name holds another key. For a device that
 * never held a certificate that is someone else's key: a leaked credential used first (squatting), a
 * second board with the same name, or this device's own data folder wiped.
 */
export const SQUAT_ADVICE =
  "this name was provisioned by another key: possible squatting (a leaked credential used first), another board with the same name, or this device's data folder wiped; an operator must check which board holds it and reset it (iotactl reset device --forget-key; if the credential leaked, rotate the group secret first and give this device the new one); this device retries by itself";

/** What a device whose name the service does not know needs (404 at provisioning). */
export const UNREGISTERED_ADVICE =
  "this device's name is not registered in its group (never created, or deleted): an operator must create it (iotactl add device) or let the group enroll it (iotactl set group --enrollment any --name-pattern ...), then this device provisions by itself";

/** The agent's log lines and error reasons. */
export const say = {
  /** The data folder could not be read at start; the key it holds is used to provision again. */
  brokenDataFolder: (reason: string) =>
    `data folder: ${reason}; provisioning again with the device's key`,
  /**
   * The data folder holds another device's certificate (a new config over an old folder): it is neither used
   * nor replaced; the operator clears the folder or puts the old config back.
   */
  otherDevice: (dataDir: string, held: string, serial: string, wanted: string) =>
    `data folder ${dataDir} holds the certificate of ${held} (serial ${serial}), but the config names ${wanted}: this agent neither uses another device's identity nor replaces it. To make this device ${wanted}, stop iotad, clear the data folder (move it aside to keep ${held}'s key) and start iotad again; or put back the config of ${held}`,
  /** A start found a key saved for a renewal whose certificate never arrived. */
  interruptedRenewal: () => "a renewal was interrupted before its answer was saved; renewing now",
  /** A start found the clock before the certificate's own start. */
  clockBeforeNotBefore: (now: number) =>
    `the clock (${iso(now)}) is before the certificate's notBefore; renewing now to learn the service's time`,
  /** SIGHUP while a request is running (or after stop). */
  renewNowIgnored: () => "a request to the service is already running; renew-now ignored",
  /** SIGHUP once the agent stopped: shutting down, or (`reason`) held back by another device's data folder. */
  renewNowStopped: (reason?: string) => `renew-now ignored: ${reason ?? "the agent is stopping"}`,
  /** A failed attempt `attempt` is retried after `delayMs`. */
  retrying: (delayMs: number, attempt: number) =>
    `retrying in ${Math.round(delayMs / 1000)} s (attempt ${attempt + 1})`,
  /** The next renewal is planned. */
  renewalPlanned: (identity: Identity, at: number) =>
    `certificate ${identity.serial} valid until ${iso(identity.notAfter)}; renewal planned at ${iso(at)}`,
  /** A provisioning request starts. */
  provisioning: (group: string, device: string, attempt: number) =>
    `provisioning ${group}/${device} (attempt ${attempt})`,
  /** Provisioning gave a certificate. */
  provisioned: (serial: string) => `provisioned: certificate ${serial}`,
  /** A renewal request starts. */
  renewing: (serial: string, attempt: number) =>
    `renewing certificate ${serial} (attempt ${attempt})`,
  /** A renewal gave a certificate. */
  renewed: (serial: string, replaced: string) =>
    `renewed: certificate ${serial} replaces ${replaced}`,
  /**
   * The service refused to renew the held certificate. Hint: no advice yet: the agent provisions again at once
   * (a reset device comes back that way), and only a refusal of that says what an operator must do.
   */
  refusedRenewal: (message: string) =>
    `the service refused renewal: ${message}; provisioning again`,
  /**
   * The `error` reason for a refused provisioning (after a refused renewal both refusals are named), with what
   * its status needs: a wrong credential (401) a new config, an unknown name (404: never created, or deleted)
   * its creation, a name held by another key (409) a check of the boards, anything else an operator's reset.
   * Hint: a 409 after a refused renewal is this device's own certificate, expired past the renewal grace.
   */
  refusedProvisioning: (status: number, message: string, refusedRenewal: string | undefined) => {
    const refused =
      refusedRenewal !== undefined
        ? `the service refused renewal: ${refusedRenewal}; provisioning again was refused too: ${message}`
        : `the service refused provisioning: ${message}`;
    if (status === 401) return `${refused}; check the device's token or secret`;
    if (status === 409 && refusedRenewal === undefined) return `${refused}; ${SQUAT_ADVICE}`;
    if (status === 404) return `${refused}; ${UNREGISTERED_ADVICE}`;
    return `${refused}; ${RESET_ADVICE}`;
  },
  /** A renewal proof rejected only because it was signed before the service's time was known. */
  signedBeforeClockKnown: (message: string) =>
    `${message} (signed before the service's clock was known; retrying)`,
  /** `iotad renew` with nothing to renew. */
  nothingToRenew: () => "there is no certificate to renew yet; run `iotad provision` first",
  /** Where the device's name came from (a hardware source), at start. */
  namedBy: (name: string, from: string, pinned: boolean) =>
    `device name ${name} ${pinned ? "pinned in the data folder when provisioned" : `from ${from}`}`,
  /** The name was pinned in the data folder. */
  namePinned: (name: string, path: string) => `device name ${name} pinned in ${path}`,
  /** The pin could not be written (retried at the next start). */
  pinFailed: (path: string, message: string) =>
    `cannot pin the device name in ${path}: ${message}; the next start tries again`,
  /** The broker refused the certificate in use: the service is asked at once. */
  brokerRefused: (serial: string) =>
    `the MQTT broker refused certificate ${serial}; renewing now to learn whether the service still accepts it`,
  /** A certificate was issued in answer to a broker refusal. */
  brokerVouched: (serial: string) =>
    `certificate ${serial} was issued after the MQTT broker refused its predecessor; should the broker refuse it too, the broker's CA or CRL is wrong, and iotad does not renew again for that until the broker has accepted it once`,
  /** A listener (MQTT announcement, afterRenew hook) failed on a new certificate. */
  listenerFailed: (cause: string, message: string) => `after ${cause} certificate: ${message}`,
} as const;

/** One-line description of a failure for logs and `lastError`. */
export function describeFailure(failure: AttemptFailure): string {
  switch (failure.kind) {
    case "refused":
      return `refused: ${failure.message}`;
    case "busy":
      return `service busy: ${failure.message}`;
    case "unreachable":
      return `service unreachable: ${failure.message}`;
    case "local":
      return `data folder: ${failure.message}`;
    case "unprovisioned":
      return failure.message;
  }
}
