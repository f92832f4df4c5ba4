/** Windows on 64-bit ARM (developer hosts: Surface, Snapdragon laptops). */
import type { Target } from "./target.ts";

export default {
  name: "windows-arm64",
  os: "windows",
  runtime: { kind: "bun", bunTarget: "bun-windows-arm64" },
  programs: ["iotactl"],
  runner: { kind: "none" },
  needs: "Windows 11 on ARM64",
} satisfies Target;
