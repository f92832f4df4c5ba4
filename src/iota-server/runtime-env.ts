/**
 * The environment the packaged service (`iota-server.service`) and `npm start` give iota-server: Bun's memory
 * allocator (mimalloc) set for a long-running server. Each entry is an `Environment=` line of the unit; an
 * operator's own value (in `/etc/iota-server/env`, or exported by hand) wins.
 *
 * - `MIMALLOC_PURGE_HOLES=0`: by default, each time the event loop goes idle (at most every 100 ms), the
 *   allocator gives the kernel the free blocks inside pages still in use. A server under load goes idle between
 *   requests many times a second and takes that memory back at once: a page fault and a zeroed page each time.
 * - `MIMALLOC_PURGE_DECOMMITS=0`: pages left wholly free for 100 ms are handed back with `MADV_FREE`, which
 *   the kernel reclaims when it needs the memory, instead of being dropped at once and faulted in again on reuse.
 *
 * Measured in bench/provision.ts, alternating with Bun's defaults: ~15% less CPU per provisioned device, for
 * ~13 MiB more resident memory at the peak and ~26 MiB more after 15 s idle (BENCHMARKS.md, "Bun's allocator").
 */
export const SERVER_RUNTIME_ENV: Readonly<Record<string, string>> = {
  MIMALLOC_PURGE_HOLES: "0",
  MIMALLOC_PURGE_DECOMMITS: "0",
};
