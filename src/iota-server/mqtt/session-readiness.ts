/**
 * Readiness from the embedded broker's own sessions: a device with a live session is online; it goes offline
 * when its last session ends, or when it says so itself (`{"state":"offline"}`, e.g. iotad on SIGTERM). Hint: a
 * last will that arrives while the device has another live session (a takeover by its own reconnection) is
 * stale and ignored.
 */

import type { DeviceIdentity } from "../../core/profile.ts";
import type { ReadinessChange } from "../store/fleet-store.ts";
import { readinessOf, statusTopic } from "./status-message.ts";

/** The live sessions of each device of the broker, and what they say. */
export class SessionReadiness {
  private readonly sessions = new Map<string, Set<object>>();

  constructor(
    private readonly prefix: string,
    private readonly report: (change: ReadinessChange) => void,
    private readonly now: () => number,
  ) {}

  private change(id: DeviceIdentity, online: boolean): void {
    this.report({ tenant: id.tenant, group: id.group, device: id.device, online, at: this.now() });
  }

  private live(id: DeviceIdentity): Set<object> {
    const key = `${id.tenant}/${id.group}/${id.device}`;
    let set = this.sessions.get(key);
    if (!set) {
      set = new Set();
      this.sessions.set(key, set);
    }
    return set;
  }

  /** A session of `id` was accepted. */
  opened(session: object, id: DeviceIdentity): void {
    this.live(id).add(session);
    this.change(id, true);
  }

  /** A session of `id` ended. */
  closed(session: object, id: DeviceIdentity): void {
    const set = this.live(id);
    if (!set.delete(session)) return;
    if (set.size > 0) return;
    this.sessions.delete(`${id.tenant}/${id.group}/${id.device}`);
    this.change(id, false);
  }

  /** `session` of `id` published `payload` on `topic` (the broker allowed it: its own subtree). */
  published(
    session: object,
    id: DeviceIdentity,
    topic: string,
    payload: Uint8Array | string,
  ): void {
    const named = statusTopic(this.prefix, topic);
    if (!named || named.group !== id.group || named.device !== id.device) return;
    const online = readinessOf(payload);
    if (online === undefined) return;
    if (!online) {
      const others = [...this.live(id)].filter((s) => s !== session);
      if (others.length > 0) return;
    }
    this.change(id, online);
  }
}
