/** Every build target, in the order build.ts builds them and the README lists them. */
import type { Target } from "./target.ts";
import linuxX64 from "./linux-x64.ts";
import linuxX64Musl from "./linux-x64-musl.ts";
import linuxArm64 from "./linux-arm64.ts";
import linuxArm64Musl from "./linux-arm64-musl.ts";
import linuxI386 from "./linux-i386.ts";
import linuxArmhf from "./linux-armhf.ts";
import linuxArmel from "./linux-armel.ts";
import darwinX64 from "./darwin-x64.ts";
import darwinArm64 from "./darwin-arm64.ts";
import windowsX64 from "./windows-x64.ts";
import windowsArm64 from "./windows-arm64.ts";

/** All targets; add a platform by adding a file beside this one and listing it here. */
export const TARGETS: readonly Target[] = [
  linuxX64,
  linuxX64Musl,
  linuxArm64,
  linuxArm64Musl,
  linuxI386,
  linuxArmhf,
  linuxArmel,
  darwinX64,
  darwinArm64,
  windowsX64,
  windowsArm64,
];

export type { Target, Program, TargetRuntime, TargetRunner } from "./target.ts";
