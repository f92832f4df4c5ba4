/** Linux on 64-bit x86 with glibc: servers, gateways, industrial PCs. */
import type { Target } from "./target.ts";

export default {
  name: "linux-x64",
  os: "linux",
  runtime: { kind: "bun", bunTarget: "bun-linux-x64-baseline" },
  programs: ["iotad", "iotactl", "iota-server"],
  packaging: { tarball: true, debArch: "amd64" },
  runner: { kind: "native" },
  needs:
    "glibc >= 2.17, any x86-64 CPU (baseline build: no AVX2 needed, so Atom and Celeron gateways work)",
} satisfies Target;
