// The compiled addon (build-cuda/Release/inkling_cuda.node, built from native/cuda/ by CMakeLists.txt)
// and its typed surface. Loading it touches no CUDA API (the runtime is linked statically and opens
// the driver on first use), so `loadCudaAddon()` works on machines without a GPU; the device error
// comes from `deviceCount()`.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeDeviceContext } from '../device/native-context.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** Where the addon is looked for: INKLING_CUDA_ADDON, else build-cuda/Release/inkling_cuda.node. */
export function cudaAddonPath(): string {
  return process.env.INKLING_CUDA_ADDON || join(repoRoot, 'build-cuda', 'Release', 'inkling_cuda.node');
}

export type { BnArgs, ConvArgs, DevicePtr, PoolArgs } from '../device/native-context.ts';

export interface CudaDeviceInfo {
  name: string;
  computeCapability: string;
  smCount: number;
  totalMemory: number;
  driverVersion: number;
  runtimeVersion: number;
  gemm: 'simt' | 'tf32';
}

/** One CUDA device and stream (native/cuda/addon/context.h). Argument orders mirror addon.cpp. */
export interface NativeCudaContext extends NativeDeviceContext {
  info(): CudaDeviceInfo;
  setGemm(variant: number): void;
  reservedBytes(): number;
  beginCapture(): void;
  endCapture(): void;
  abortCapture(): void;
  replay(lr?: number): void;
  releaseGraph(): void;
}

export interface CudaAddon {
  CudaContext: new (device: number, gemmVariant: number) => NativeCudaContext;
  /** cudaGetDeviceCount; `error` is its error string (e.g. no driver) or null. */
  deviceCount(): { count: number; error: string | null };
  /** What the addon was compiled with; needs no driver. */
  buildInfo(): { cudaRuntime: number; architectures: string };
}

let cached: CudaAddon | null = null;

/** Loads the addon, or throws an Error naming the fix. */
export function loadCudaAddon(): CudaAddon {
  if (cached) return cached;
  const path = cudaAddonPath();
  if (!existsSync(path)) {
    throw new Error(
      `cuda backend: the addon is not built (${path} is missing). ` +
        'Fix: install the CUDA toolkit (nvcc) and cmake, then run `npm run build:cuda`.',
    );
  }
  const require = createRequire(import.meta.url);
  try {
    cached = require(path) as CudaAddon;
  } catch (err) {
    throw new Error(
      `cuda backend: the addon at ${path} failed to load: ${err instanceof Error ? err.message : String(err)}. ` +
        'Fix: rebuild it with `npm run build:cuda`.',
      { cause: err },
    );
  }
  return cached;
}
