/** Linux on 32-bit ARM (hard-float): Bun has no 32-bit runtime, so iotad and iotactl run on the distribution's Node.js. */
import type { Target } from "./target.ts";

export default {
  name: "linux-armhf",
  os: "linux",
  runtime: { kind: "node", minNode: 18 },
  programs: ["iotad", "iotactl"],
  packaging: { tarball: true, debArch: "armhf" },
  runner: { kind: "foreign-node", debArch: "armhf", qemu: "qemu-arm" },
  needs:
    "Node.js >= 18 on ARMv7-A with VFPv3/NEON (Debian 12 armhf: apt install nodejs); ARMv6 takes linux-armel, ARMv5 has no Node.js: see the README",
} satisfies Target;
