/** What every domain operation receives: the store, the sealer, the tenants' CAs and the clock. */

import type { Sealer } from "../ca/sealer.ts";
import type { Logger } from "../log.ts";
import type { Store } from "../store/store.ts";
import type { Tenants } from "./tenants.ts";
import type { DeviceEvents } from "./device-events.ts";

/** Dependencies of the domain operations; only `main.ts` builds the real ones. */
export interface DomainContext {
  store: Store;
  sealer: Sealer;
  tenants: Tenants;
  /** Current time in epoch milliseconds. */
  now: () => number;
  /** Events an operator should see besides the access log (devices created by enrollment). */
  log?: Logger;
  /** Device events other parts of this process act on (the embedded broker); absent, nobody listens. */
  events?: DeviceEvents;
}

/** The sealing context of a group's provisioning secret (binds the ciphertext to its group). */
export function secretContext(tenant: string, group: string): string {
  return `group-secret:${tenant}/${group}`;
}
