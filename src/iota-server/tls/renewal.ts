/** Keeps one of the service's own TLS certificates renewed while it runs, well before it expires. */

import type { Logger } from "../log.ts";
import type { ServerCertificate } from "./server-certificate.ts";

/** Part of the lifetime after which a certificate is replaced (the same 2/3 devices use). */
const RENEW_AT = 2 / 3;
/** Longest single timer wait: timers cannot wait longer than ~24.8 days, and a day re-checks a sleeping host. */
const MAX_WAIT_MS = 86400_000;

/** A running renewal; `stop()` cancels the timer. */
export interface Renewal {
  /** The certificate in use now. */
  current(): ServerCertificate;
  stop(): void;
}

/**
 * Re-issues `initial` with `issue` at 2/3 of its lifetime, again and again, and hands every new certificate
 * to `apply` (which puts it in service without a restart). A failed issue is logged and retried in a minute;
 * the certificate in use stays until a new one is applied.
 */
export function keepRenewed(
  initial: ServerCertificate,
  issue: () => Promise<ServerCertificate>,
  apply: (next: ServerCertificate) => void | Promise<void>,
  log: Logger,
  what: string,
  now: () => number = Date.now,
): Renewal {
  let current = initial;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  const dueAt = (cert: ServerCertificate) =>
    cert.notBefore + (cert.notAfter - cert.notBefore) * RENEW_AT;
  const plan = (at: number) => {
    if (stopped) return;
    timer = setTimeout(tick, Math.max(0, Math.min(at - now(), MAX_WAIT_MS)));
    timer.unref?.();
  };
  const tick = async () => {
    if (now() < dueAt(current)) return plan(dueAt(current));
    try {
      const next = await issue();
      await apply(next);
      current = next;
      log.info(
        `${what}: TLS certificate renewed (serial ${next.serial}, valid until ${new Date(next.notAfter).toISOString()})`,
      );
      plan(dueAt(next));
    } catch (error) {
      log.error(
        `${what}: renewing the TLS certificate failed, retrying in a minute: ${(error as Error).message}`,
      );
      plan(now() + 60_000);
    }
  };
  plan(dueAt(initial));
  return {
    current: () => current,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
