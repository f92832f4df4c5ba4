/**
 * The environment the packaged service (`iota-server.service`), `npm start` and `npm run server` give
 * iota-server: Bun's memory allocator (mimalloc) set for a long-running server. The unit sets each variable on
 * its `Environment=` line, and a value in `/etc/iota-server/env` wins; with npm, a value the caller exported wins.
 *
 * - `MIMALLOC_PURGE_HOLES=0`: by default, each time a thread goes idle (at most every 100 ms), the allocator
 *   gives the kernel the free blocks inside pages still in use. A server under load goes idle between requests
 *   many times a second and takes that memory back at once: a page fault and a zeroed page each time.
 * - `MIMALLOC_PURGE_DECOMMITS=0`: pages left wholly free for 100 ms are handed back with `MADV_FREE`, which the
 *   kernel reclaims when it needs the memory (until then they count in the process's resident memory), instead
 *   of being dropped at once and faulted in again on reuse.
 *
 * Measured in bench/provision.ts on a 2-core test machine, alternating with Bun's defaults: ~15% less CPU per
 * provisioned device, for ~11 MiB more resident memory at the peak (BENCHMARKS.md, "Bun's allocator").
 */
export const SERVER_RUNTIME_ENV: Readonly<Record<string, string>> = {
  MIMALLOC_PURGE_HOLES: "0",
  MIMALLOC_PURGE_DECOMMITS: "0",
};
