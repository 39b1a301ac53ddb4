// What every backend factory accepts. Its own file so that the backends import it without
// importing the registry that imports them (scripts/check-layers.mjs refuses that cycle).
import type { Backend } from '../backend.ts';

/** Options every factory understands (a factory may accept more of its own). */
export interface BackendOptions {
  /** Host threads for CPU kernels (default: the cores; INKLING_THREADS overrides in cpu). */
  threads?: number;
}

export type BackendFactory = (opts?: BackendOptions) => Promise<Backend>;
