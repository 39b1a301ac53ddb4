// How the service's C heap gives memory back. Node's Buffers and sharp's pixels are malloc'd;
// under glibc, the mmap threshold rises to the size of any large block freed, so after one 5 MB
// upload the next ones come from arenas that keep their pages, and up to 8 arenas per core are
// created. Fixed at 256 KiB and 4 arenas (mallopt, through the cpu addon), 5 MB buffers freed
// after a burst go back to the system (malloc-tuning.test.ts: 5 MB of 200 stayed resident, 203
// without). bench:memory on the 2-core Zen 4 host, 10 s body timeout: peak 264 / 278 MB (uploads /
// stalled phase) with it, 295 / 335 without; with 4 preprocessing threads within noise (358 / 351
// with, 339 / 367 without). An explicit MALLOC_ARENA_MAX or MALLOC_MMAP_THRESHOLD_ in the
// environment is the operator's choice and is left alone.
import { loadCpuAddon, type CpuAddon } from '../nn/backends/cpu/addon.ts';

export const MMAP_THRESHOLD_BYTES = 256 * 1024;
export const ARENA_MAX = 4;

/** Applies the settings; returns what it did, for the start-up log. */
export function limitMallocRetention(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MALLOC_ARENA_MAX !== undefined || env.MALLOC_MMAP_THRESHOLD_ !== undefined) return 'malloc: as set in the environment (MALLOC_*)';
  let addon: CpuAddon;
  try {
    addon = loadCpuAddon();
  } catch {
    return 'malloc: defaults (no cpu addon to set them)';
  }
  if (typeof addon.limitMallocRetention !== 'function') return 'malloc: defaults (the cpu addon predates limitMallocRetention; npm run build:cpu)';
  return addon.limitMallocRetention(MMAP_THRESHOLD_BYTES, ARENA_MAX)
    ? `malloc: mmap threshold ${MMAP_THRESHOLD_BYTES / 1024} KiB, at most ${ARENA_MAX} arenas`
    : 'malloc: defaults (not glibc)';
}
