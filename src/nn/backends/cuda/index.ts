// The cuda backend: our own CUDA kernels (native/cuda/) behind the Backend contract.
// createCudaBackend() rejects with the reason and the fix when it cannot run here: the addon is
// not built, no CUDA driver or device (cudaGetDeviceCount's error text), or a GPU older than sm_80.

import type { Backend } from '../../backend.ts';
import type { BackendOptions } from '../options.ts';
import { CudaBackend, isGraphCapable, type GraphCapableBackend } from './cuda-backend.ts';
import { graphedStep, type GraphedStep, type GraphedStepOptions } from './graph-step.ts';
import { cudaAddonPath, loadCudaAddon } from './native.ts';
import { parseGemmVariant, type GemmVariantName } from './params.ts';

export { CudaBackend, cudaAddonPath, graphedStep, isGraphCapable, loadCudaAddon };
export type { GemmVariantName, GraphCapableBackend, GraphedStep, GraphedStepOptions };

export interface CudaBackendOptions extends BackendOptions {
  /** CUDA device index (default 0, or INKLING_CUDA_DEVICE). */
  device?: number;
  /** GEMM behind matmul and conv (default INKLING_CUDA_GEMM, else 'simt'). */
  gemm?: GemmVariantName;
}

/** CUDART_VERSION 13000 → "13.0". */
function runtimeVersion(v: number): string {
  return `${Math.floor(v / 1000)}.${Math.floor((v % 1000) / 10)}`;
}

export async function createCudaBackend(opts: CudaBackendOptions = {}): Promise<Backend> {
  const gemm = opts.gemm ?? parseGemmVariant(process.env.INKLING_CUDA_GEMM);
  const device = opts.device ?? Number(process.env.INKLING_CUDA_DEVICE ?? 0);
  if (!Number.isInteger(device) || device < 0) throw new Error(`cuda backend: device must be a non-negative integer, got ${device}`);
  const addon = loadCudaAddon();
  const { count, error } = addon.deviceCount();
  if (error !== null || count === 0) {
    // With no driver at all the runtime also says "insufficient driver": name both causes.
    const driverHint = error?.includes('cudaErrorInsufficientDriver')
      ? ` — no NVIDIA driver was found, or it is older than the CUDA ${runtimeVersion(addon.buildInfo().cudaRuntime)} runtime this addon was built with`
      : '';
    throw new Error(
      `cuda backend: no CUDA device available (cudaGetDeviceCount: ${error ?? '0 devices'}${driverHint}). ` +
        'Fix: run on a machine with an NVIDIA GPU and a current driver (or rebuild with its toolkit: `npm run build:cuda`), ' +
        'or choose another backend (--backend cpu).',
    );
  }
  if (device >= count) throw new Error(`cuda backend: device ${device} does not exist (${count} CUDA device(s) found)`);
  try {
    return new CudaBackend(new addon.CudaContext(device, gemm === 'tf32' ? 1 : 0));
  } catch (err) {
    throw new Error(`cuda backend: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
