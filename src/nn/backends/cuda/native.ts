// The compiled addon and its typed surface. Two builds of the same sources exist:
// - inkling_cuda.node (build-cuda/Release/, nvcc, CMakeLists.txt): the real one. Loading it touches
//   no CUDA API (the runtime is linked statically and opens the driver on first use), so
//   `loadCudaAddon()` works on machines without a GPU; the device error comes from `deviceCount()`.
// - inkling_cuda_emu.node (build-cuda-emu/Release/, g++, scripts/cuda-emu/build.mjs): the same
//   kernel and addon sources compiled as C++ against the SIMT emulator of native/emu/, which runs
//   them on the CPU (the cuda-emu backend).

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

/** Where the emulator build is looked for: INKLING_CUDA_EMU_ADDON, else build-cuda-emu/Release/inkling_cuda_emu.node. */
export function cudaEmuAddonPath(): string {
  return process.env.INKLING_CUDA_EMU_ADDON || join(repoRoot, 'build-cuda-emu', 'Release', 'inkling_cuda_emu.node');
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

const cached = new Map<string, CudaAddon>();

function loadAddonAt(path: string, label: string, buildFix: string): CudaAddon {
  const hit = cached.get(path);
  if (hit) return hit;
  if (!existsSync(path)) throw new Error(`${label}: the addon is not built (${path} is missing). Fix: ${buildFix}.`);
  const require = createRequire(import.meta.url);
  let addon: CudaAddon;
  try {
    addon = require(path) as CudaAddon;
  } catch (err) {
    throw new Error(
      `${label}: the addon at ${path} failed to load: ${err instanceof Error ? err.message : String(err)}. Fix: rebuild it: ${buildFix}.`,
      { cause: err },
    );
  }
  cached.set(path, addon);
  return addon;
}

/** Loads the nvcc-built addon, or throws an Error naming the fix. */
export function loadCudaAddon(): CudaAddon {
  return loadAddonAt(cudaAddonPath(), 'cuda backend', 'install the CUDA toolkit (nvcc) and cmake, then run `npm run build:cuda`');
}

/** Loads the emulator build (the same sources under native/emu's SIMT emulator), or throws naming the fix. */
export function loadCudaEmuAddon(): CudaAddon {
  return loadAddonAt(cudaEmuAddonPath(), 'cuda-emu backend', 'install g++ (12 or newer), then run `npm run build:cuda-emu`');
}
