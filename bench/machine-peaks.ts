// This machine's limits, measured with the cpu addon's microbenchmarks (native/cpu/impl/microbench.h):
// the FMA rate of independent chains on one thread and on all, and a streaming triad's bandwidth.
// null when the addon is not built (the benchmarks then print no fraction of peak).

import { createCpuBackend } from '../src/nn/backends/cpu/index.ts';

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
    cpu = await createCpuBackend();
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
