/**
 * What one client may cost the embedded broker: the time to finish TLS and send CONNECT, the size of a packet,
 * the retained messages a device keeps, and how many connections the broker takes before the API runs out of
 * file descriptors (the two share one process).
 */

import { readFileSync } from "node:fs";
import type { TLSSocket } from "node:tls";
import { PacketSizeGuard } from "./packet-size-guard.ts";

/** A TLS handshake not finished in this time is cut off. */
export const HANDSHAKE_TIMEOUT_MS = 10_000;
/** A client that finished TLS but sent no CONNECT in this time is cut off. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** Topics one device may hold a retained message on at once (its status is one). */
export const MAX_RETAINED_PER_DEVICE = 16;
/** File descriptors kept for the API, the database and the logs whatever the broker's load. */
const RESERVED_DESCRIPTORS = 1024;
/** The connection limit where the process's file limit cannot be read. */
const FALLBACK_CONNECTIONS = 10_000;

/** The soft "Max open files" limit of this process, from /proc/self/limits; undefined where unknown. */
function openFilesLimit(): number | undefined {
  try {
    const line = /^Max open files\s+(\d+|unlimited)/m.exec(
      readFileSync("/proc/self/limits", "utf8"),
    );
    return line?.[1] === undefined || line[1] === "unlimited" ? undefined : Number(line[1]);
  } catch {
    return undefined;
  }
}

/** How many connections the broker takes under the file limit `limit`: what the rest of the service keeps is left. */
export function connectionLimitFor(limit: number | undefined): number {
  if (limit === undefined) return FALLBACK_CONNECTIONS;
  return Math.max(64, limit - RESERVED_DESCRIPTORS);
}

/** {@link connectionLimitFor} this process's file limit. */
export function brokerConnectionLimit(): number {
  return connectionLimitFor(openFilesLimit());
}

/**
 * Watches what the broker reads from `socket` (aedes reads with `read()` when the socket is readable) and
 * destroys the connection at the fixed header of a packet over `maxBytes`, before its body is buffered.
 */
export function guardPacketSize(
  socket: TLSSocket,
  maxBytes: number,
  onOver: (announced: number) => void,
): void {
  const guard = new PacketSizeGuard(maxBytes);
  const read = socket.read.bind(socket);
  socket.read = ((size?: number) => {
    const chunk: unknown = read(size);
    if (chunk instanceof Uint8Array) {
      const over = guard.check(chunk);
      if (over !== undefined) {
        onOver(over);
        socket.destroy();
        return null;
      }
    }
    return chunk;
  }) as typeof socket.read;
}

/** The topics each device holds retained messages on, so one device cannot fill the broker's memory. */
export class RetainedQuota {
  private readonly topics = new Map<string, Set<string>>();

  constructor(private readonly max: number = MAX_RETAINED_PER_DEVICE) {}

  /**
   * Records a retained publish of `device` on `topic` (an empty payload clears it); false, recording nothing,
   * when it would hold more than the quota.
   */
  admit(device: string, topic: string, empty: boolean): boolean {
    let held = this.topics.get(device);
    if (empty) {
      held?.delete(topic);
      if (held?.size === 0) this.topics.delete(device);
      return true;
    }
    if (held?.has(topic)) return true;
    if ((held?.size ?? 0) >= this.max) return false;
    if (!held) {
      held = new Set();
      this.topics.set(device, held);
    }
    held.add(topic);
    return true;
  }
}
