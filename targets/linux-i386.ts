/** Linux on 32-bit x86: Bun has no 32-bit runtime, so iotad and iotactl run on the distribution's Node.js. */
import type { Target } from "./target.ts";

export default {
  name: "linux-i386",
  os: "linux",
  runtime: { kind: "node", minNode: 18 },
  programs: ["iotad", "iotactl"],
  packaging: { tarball: true, debArch: "i386" },
  runner: { kind: "foreign-node", debArch: "i386" },
  needs:
    "Node.js >= 18 (Debian 12: apt install nodejs, 18.x) on an i686 CPU with SSE2 (Debian's i386 Node requires it)",
} satisfies Target;
