/** Linux on 64-bit ARM with glibc: Raspberry Pi 3/4/5 with a 64-bit OS, i.MX8, Jetson. */
import type { Target } from "./target.ts";

export default {
  name: "linux-arm64",
  os: "linux",
  runtime: { kind: "bun", bunTarget: "bun-linux-arm64" },
  programs: ["iotad", "iotactl", "iota-server"],
  packaging: { tarball: true, debArch: "arm64" },
  runner: { kind: "qemu", qemu: "qemu-aarch64", sysroot: "/usr/aarch64-linux-gnu" },
  needs: "glibc >= 2.17, an ARMv8-A CPU (64-bit kernel and userland)",
} satisfies Target;
