/** Linux on 64-bit ARM with musl libc: Alpine-based images on ARM64 boards. */
import type { Target } from "./target.ts";

export default {
  name: "linux-arm64-musl",
  os: "linux",
  runtime: { kind: "bun", bunTarget: "bun-linux-arm64-musl" },
  programs: ["iotad"],
  packaging: { tarball: true },
  runner: { kind: "none" },
  needs: "musl libc (Alpine 3.x) with libstdc++ and libgcc, an ARMv8-A CPU",
} satisfies Target;
