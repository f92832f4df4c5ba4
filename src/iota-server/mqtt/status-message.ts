/** The readiness messages devices publish: `<prefix>/<group>/<device>/status` with `{"state":"ready"|"offline",...}`. */

import { isValidName } from "../../core/names.ts";

/** The device a status topic names, or undefined for any other topic. */
export function statusTopic(
  prefix: string,
  topic: string,
): { group: string; device: string } | undefined {
  if (!topic.startsWith(`${prefix}/`)) return undefined;
  const levels = topic.slice(prefix.length + 1).split("/");
  if (levels.length !== 3 || levels[2] !== "status") return undefined;
  const [group = "", device = ""] = levels;
  return isValidName(group) && isValidName(device) ? { group, device } : undefined;
}

/**
 * What a status payload says: true for `ready`, false for `offline`, undefined for anything else (an empty
 * payload clearing the retained message, a state in between, or no JSON at all).
 */
export function readinessOf(payload: Uint8Array | string): boolean | undefined {
  if (payload.length === 0 || payload.length > 4096) return undefined;
  let message: unknown;
  try {
    message = JSON.parse(typeof payload === "string" ? payload : new TextDecoder().decode(payload));
  } catch {
    return undefined;
  }
  const state = (message as { state?: unknown } | null)?.state;
  if (state === "ready") return true;
  if (state === "offline") return false;
  return undefined;
}
