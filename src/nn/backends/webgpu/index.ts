// The WebGPU backend: `createWebgpuBackend()` opens (once per process) a WebGPU device through
// Dawn and returns a Backend whose kernels are WGSL compute shaders (./kernels). See README.md.
import type { Backend } from '../../backend.ts';
import type { BackendOptions } from '../options.ts';
import { getGpuContext, NO_ADAPTER_HELP } from './device.ts';
import { WebgpuBackend } from './webgpu-backend.ts';

export interface WebgpuBackendOptions extends BackendOptions {
  /** Dawn options for the first device of the process, e.g. ['backend=vulkan']. Defaults to
   *  INKLING_WEBGPU_FLAGS (comma-separated), so `--backend webgpu` in the CLI can pick one too. */
  flags?: string[];
}

function flagsFromEnv(): string[] {
  const raw = process.env.INKLING_WEBGPU_FLAGS;
  return raw ? raw.split(',').map((s) => s.trim()).filter(Boolean) : [];
}

export async function createWebgpuBackend(opts: WebgpuBackendOptions = {}): Promise<Backend> {
  const ctx = await getGpuContext(opts.flags ?? flagsFromEnv());
  return new WebgpuBackend(ctx);
}

/** True when a WebGPU adapter can be opened here (tests skip with the reason otherwise). */
export async function webgpuAvailable(): Promise<{ ok: true } | { ok: false; reason: string }> {
  try {
    await getGpuContext();
    return { ok: true };
  } catch (err) {
    return { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
}

export { WebgpuBackend, NO_ADAPTER_HELP };
export type { GpuTiming, KernelTiming } from './profiler.ts';
export { gpuKernelTimer, type GpuKernelTimer } from './timing.ts';
