/**
 * What happens to devices that other parts of the same process act on at once: the embedded broker drops a
 * session held with a certificate the moment a renewal replaces it, instead of at its next store re-check.
 */

import type { DeviceKey } from "../store/store.ts";

/** Told the device `key` now holds the certificate `serial` (lowercase hex), which replaced its earlier one. */
export type RenewedListener = (key: DeviceKey, serial: string) => void;

/** Device events of one process; other replicas learn the same from the store. */
export class DeviceEvents {
  private readonly renewedListeners = new Set<RenewedListener>();

  /** Calls `listener` after every renewal this process records; the returned function stops it. */
  onRenewed(listener: RenewedListener): () => void {
    this.renewedListeners.add(listener);
    return () => this.renewedListeners.delete(listener);
  }

  /** Reports a recorded renewal. Hint: a listener's failure is its own; the renewal stands and is answered. */
  renewed(key: DeviceKey, serial: string): void {
    for (const listener of this.renewedListeners) {
      try {
        listener(key, serial);
      } catch {
        // Nothing to undo: the listener only reacts.
      }
    }
  }
}
