// GPU-side timing for benchmarks (bench/kernels.ts), without touching the Backend contract:
//   const timer = gpuKernelTimer(backend);           // null unless WebGPU with timestamp-query
//   const ms = timer ? await timer(() => inst.run()) : null;   // GPU ms of the kernels run() enqueued
// Wall-clock timing around flush() includes submit and readback latency (about 0.2 ms per round
// trip on lavapipe), which dominates small kernels; timestamps measure the dispatches alone.
import type { Backend } from '../../backend.ts';
import { WebgpuBackend } from './webgpu-backend.ts';

export type GpuKernelTimer = (run: () => void) => Promise<number>;

export function gpuKernelTimer(backend: Backend): GpuKernelTimer | null {
  if (!(backend instanceof WebgpuBackend) || !backend.hasGpuTimer) return null;
  return async (run) => {
    const timing = await backend.gpuTime(run);
    return timing ? timing.totalMs : Number.NaN;
  };
}
