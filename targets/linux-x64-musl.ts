/** Linux on 64-bit x86 with musl libc: Alpine-based images. */
import type { Target } from "./target.ts";

export default {
  name: "linux-x64-musl",
  os: "linux",
  runtime: { kind: "bun", bunTarget: "bun-linux-x64-musl-baseline" },
  programs: ["iotad"],
  packaging: { tarball: true },
  runner: { kind: "none" },
  needs: "musl libc (Alpine 3.x) with libstdc++ and libgcc (apk add libstdc++ libgcc)",
} satisfies Target;
