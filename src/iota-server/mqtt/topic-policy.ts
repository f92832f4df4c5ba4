/** Who may publish and subscribe where on the embedded broker: each device owns one subtree of topics. */

import type { DeviceIdentity } from "../../core/profile.ts";

/**
 * The topic policy of a broker whose clients are IoTA devices.
 *
 * - A device publishes only inside its own subtree `<prefix>/<group>/<device>` (its last will included).
 * - It subscribes inside that subtree, and may read the `status` topic of every device of its own group
 *   (`<prefix>/<group>/+/status`), so a group's monitor is simply a device of that group (e.g. `monitor`).
 * - Nothing else: no `#`, no `$SYS`, no other group, no other tenant.
 */
export interface TopicPolicy {
  /** True when `id` may publish on `topic` (a topic name, no wildcards). */
  mayPublish(id: DeviceIdentity, topic: string): boolean;
  /** True when every topic `filter` can match is one `id` may read. */
  maySubscribe(id: DeviceIdentity, filter: string): boolean;
}

/** The levels of a device's own subtree: `[...prefix, group, device]`. */
function ownLevels(prefix: string[], id: DeviceIdentity): string[] {
  return [...prefix, id.group, id.device];
}

/** True when `levels` starts with exactly the literal levels of `head`. */
function startsWithLevels(levels: string[], head: string[]): boolean {
  return levels.length >= head.length && head.every((level, i) => levels[i] === level);
}

/** A level that names one device: a literal device name (no wildcard, not empty). */
function isLiteralLevel(level: string | undefined): boolean {
  return level !== undefined && level !== "" && level !== "+" && level !== "#";
}

/** The device-subtree policy under `prefix` (default `iota`; may have several levels, e.g. `acme/iota`). */
export function deviceTopicPolicy(prefix: string): TopicPolicy {
  const prefixLevels = prefix.split("/");
  return {
    mayPublish(id, topic) {
      if (topic.includes("+") || topic.includes("#")) return false;
      return startsWithLevels(topic.split("/"), ownLevels(prefixLevels, id));
    },
    maySubscribe(id, filter) {
      const levels = filter.split("/");
      // Hint: the own levels must be literal: "iota/g/+/x" would also match other devices' subtrees.
      if (startsWithLevels(levels, ownLevels(prefixLevels, id))) return true;
      const groupLevels = [...prefixLevels, id.group];
      if (levels.length !== groupLevels.length + 2 || !startsWithLevels(levels, groupLevels))
        return false;
      const device = levels[groupLevels.length];
      return (
        (device === "+" || isLiteralLevel(device)) && levels[groupLevels.length + 1] === "status"
      );
    },
  };
}
