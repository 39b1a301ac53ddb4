// This machine's limits, measured with the cpu addon's microbenchmarks (native/cpu/impl/microbench.h):
// the FMA rate of independent chains on one thread and on all, and a streaming triad's bandwidth.
// The FMA chains run in the WIDEST vector ISA this CPU and OS support (AVX-512 where present, not
// the AVX2 rate: that understated the machine by half where AVX-512 exists), whichever table the
// benchmarked backend happens to use. null when the addon is not built (the benchmarks then print
// no fraction of peak).

import { createCpuBackend, loadCpuAddon, type CpuIsa } from '../src/nn/backends/cpu/index.ts';

/** The widest kernel table that runs here. */
export function widestIsa(): Exclude<CpuIsa, 'auto'> {
  const why = loadCpuAddon().isaAvailability();
  return why.avx512 === '' ? 'avx512' : why.avx2 === '' ? 'avx2' : 'portable';
}

export interface MachinePeaks {
  isa: string;
  threads: number;
  fmaGflopsOneThread: number;
  fmaGflopsAllThreads: number;
  triadGBps: number;
}

export async function measureMachinePeaks(seconds = 0.5): Promise<MachinePeaks | null> {
  let cpu;
  try {
    cpu = await createCpuBackend({ isa: widestIsa() });
  } catch {
    return null;
  }
  try {
    const threads = cpu.info.threads;
    return {
      isa: cpu.info.isa,
      threads,
      fmaGflopsOneThread: cpu.peakFmaGflops(1, seconds),
      fmaGflopsAllThreads: cpu.peakFmaGflops(threads, seconds),
      triadGBps: cpu.triadGBps(threads, seconds),
    };
  } finally {
    cpu.dispose();
  }
}
