/** Idle sampling of a process from /proc: memory, and wake-ups (voluntary context switches) per thread. */

import { readFileSync, readdirSync } from "node:fs";

/** Fields of /proc/PID/status as numbers (kB values without the unit). */
export function procStatus(path: string): Map<string, number> {
  const fields = new Map<string, number>();
  for (const line of readFileSync(path, "utf8").split("\n")) {
    const match = /^(\w+):\s+(\d+)/.exec(line);
    if (match) fields.set(match[1] ?? "", Number(match[2]));
  }
  return fields;
}

/** Voluntary context switches per live thread (tid → count); the main thread's tid is the pid. */
export function wakeups(pid: number): Map<string, number> {
  const counts = new Map<string, number>();
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      counts.set(
        task,
        procStatus(`/proc/${pid}/task/${task}/status`).get("voluntary_ctxt_switches") ?? 0,
      );
    } catch {
      // Hint: a thread may end between the listing and the read.
    }
  }
  return counts;
}

/** Wake-ups between two samples: of the main thread, and of every thread alive at both (threads come and go). */
export function wakeupsBetween(
  pid: number,
  before: Map<string, number>,
  after: Map<string, number>,
): { main: number; all: number; threads: number } {
  let all = 0;
  for (const [tid, count] of after) all += count - (before.get(tid) ?? count);
  return {
    main: (after.get(String(pid)) ?? 0) - (before.get(String(pid)) ?? 0),
    all,
    threads: after.size,
  };
}
