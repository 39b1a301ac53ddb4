// The cpu backend: our C++ kernels (native/cpu) with AVX-512, AVX2+FMA, NEON or portable code, on
// a thread pool.
//   createCpuBackend({ threads?, isa?, addonPath? })
// threads: explicit option, else INKLING_THREADS, else one per core. isa: explicit option, else
// INKLING_CPU_ISA (auto | avx512 | avx2 | neon | portable), else auto (CPUID + XGETBV / HWCAP: the
// widest the CPU and OS support). addonPath: another build of the addon (the SIMDe test build),
// else INKLING_CPU_ADDON, else build/Release. Throws, naming the fix, when the addon is not built
// or the ISA asked for cannot run here.

import { cpus } from 'node:os';
import type { Backend } from '../../backend.ts';
import type { BackendOptions } from '../options.ts';
import { loadCpuAddon } from './addon.ts';
import { CpuBackend } from './cpu-backend.ts';

export { CpuBackend } from './cpu-backend.ts';
export { loadCpuAddon, type CpuFeatures } from './addon.ts';

export type CpuIsa = 'auto' | 'avx512' | 'avx2' | 'neon' | 'portable';

export interface CpuBackendOptions extends BackendOptions {
  isa?: CpuIsa;
  /** The addon file to load (default: INKLING_CPU_ADDON, else build/Release/inkling_cpu.node). */
  addonPath?: string;
}

function threadsFrom(opts: CpuBackendOptions | undefined): number {
  if (opts?.threads !== undefined) {
    if (!Number.isInteger(opts.threads) || opts.threads < 1) {
      throw new Error(`cpu backend: threads must be a positive integer, got ${opts.threads}`);
    }
    return opts.threads;
  }
  const env = process.env.INKLING_THREADS;
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new Error(`INKLING_THREADS must be a positive integer, got '${env}'`);
    return n;
  }
  return 0;  // the addon uses one thread per core
}

export async function createCpuBackend(opts?: CpuBackendOptions): Promise<CpuBackend & Backend> {
  const addon = opts?.addonPath ? loadCpuAddon(opts.addonPath) : loadCpuAddon();
  const isa = opts?.isa ?? (process.env.INKLING_CPU_ISA || 'auto');
  const ctx = addon.createContext(threadsFrom(opts), isa);
  const info = addon.contextInfo(ctx);
  const model = cpus()[0]?.model?.trim() || 'unknown CPU';
  return new CpuBackend(addon, ctx, { isa: info.isa, threads: info.threads, cpuModel: model });
}
