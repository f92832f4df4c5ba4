/** Linux on 32-bit ARM (soft-float ABI, ARMv6: Raspberry Pi 1/Zero): iotad and iotactl run on Debian's armel Node.js, which needs ARMv6. */
import type { Target } from "./target.ts";

export default {
  name: "linux-armel",
  os: "linux",
  runtime: { kind: "node", minNode: 18 },
  programs: ["iotad", "iotactl"],
  packaging: { tarball: true, debArch: "armel" },
  runner: { kind: "foreign-node", debArch: "armel", qemu: "qemu-arm", qemuCpu: "arm1176" },
  needs:
    "Node.js >= 18 on ARMv6 or later (Debian 12 armel: apt install nodejs, built for ARMv6); ARMv5 has no Node.js (SIGILL): see the README",
} satisfies Target;
