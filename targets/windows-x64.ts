/** Windows on 64-bit x86. */
import type { Target } from "./target.ts";

export default {
  name: "windows-x64",
  os: "windows",
  runtime: { kind: "bun", bunTarget: "bun-windows-x64-baseline" },
  programs: ["iotad", "iotactl"],
  runner: { kind: "none" },
  needs:
    "Windows 10 1809 / Server 2019 or later (x64); iotad.exe has no service wrapper: use the Task Scheduler or a tool such as WinSW",
} satisfies Target;
