/** The shape of a build target: what one platform gets from `npm run build` and what a device on it needs. */

/** The three programs of IoTA, by their `package.json` bin names. */
export type Program = "iotad" | "iotactl" | "iota-server";

/** How the programs run on the platform. */
export type TargetRuntime =
  /** A Bun single executable (`bun build --compile --target=<bunTarget>`). */
  | { kind: "bun"; bunTarget: string }
  /** A single-file ESM bundle for the device's own Node.js, started by a small launcher script (no Bun runtime exists for the platform). */
  | { kind: "node"; minNode: number };

/** How the test suite runs this target's executables (see test/dist.test.ts). */
export type TargetRunner =
  /** Natively on the build host (linux x64). */
  | { kind: "native" }
  /** Under qemu-user with a foreign sysroot: `qemu-aarch64 -L /usr/aarch64-linux-gnu`. */
  | { kind: "qemu"; qemu: string; sysroot: string }
  /** On Debian's own Node.js for that architecture, unpacked by scripts/foreign-node.sh; under `qemu` (as the CPU model `qemuCpu`, default qemu's newest) when foreign. */
  | { kind: "foreign-node"; debArch: string; qemu?: string; qemuCpu?: string }
  /** Not run here (darwin, windows, musl): only built. */
  | { kind: "none" };

/** One platform. Data only: build.ts and the dist test read it, the README table is written from it. */
export interface Target {
  /** `<os>-<arch>[-libc]`, used in every artifact name. */
  name: string;
  os: "linux" | "darwin" | "windows";
  runtime: TargetRuntime;
  /** The programs built for it. */
  programs: Program[];
  /** Device packaging (Linux only): a tarball with install.sh, and a .deb for this Debian architecture. */
  packaging?: { tarball: true; debArch?: string };
  runner: TargetRunner;
  /** What a device (or host) of this platform needs, for the README's platform table. */
  needs: string;
}
