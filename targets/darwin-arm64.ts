/** macOS on Apple silicon (M-series). */
import type { Target } from "./target.ts";

export default {
  name: "darwin-arm64",
  os: "darwin",
  runtime: { kind: "bun", bunTarget: "bun-darwin-arm64" },
  programs: ["iotad", "iotactl"],
  runner: { kind: "none" },
  needs:
    "macOS 13 or later on Apple silicon; Bun signs the executable ad hoc, re-sign it with your identity for distribution",
} satisfies Target;
