/** macOS on Intel. */
import type { Target } from "./target.ts";

export default {
  name: "darwin-x64",
  os: "darwin",
  runtime: { kind: "bun", bunTarget: "bun-darwin-x64" },
  programs: ["iotad", "iotactl"],
  runner: { kind: "none" },
  needs:
    "macOS 13 or later; unsigned: run `xattr -d com.apple.quarantine iotad` after download, or sign it",
} satisfies Target;
