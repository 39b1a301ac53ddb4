// The Metal addon (build/Release/inkling_metal.node, built on macOS from native/metal/ by
// binding.gyp's inkling_metal target) and its typed surface (native/metal/host/addon_surface.cc).
// Buffers are handles: buffer id · 2^32 + byte offset (native/metal/host/device.h), so the shared
// device wrapper's address arithmetic (handle + 4·element) works unchanged.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeDeviceContext } from '../device/native-context.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** Where the addon is looked for: INKLING_METAL_ADDON, else build/Release/inkling_metal.node. */
export function metalAddonPath(): string {
  return process.env.INKLING_METAL_ADDON || join(repoRoot, 'build', 'Release', 'inkling_metal.node');
}

export type MetalGemmName = 'simdgroup' | 'mps';

export interface MetalDeviceInfo {
  name: string;
  unifiedMemory: boolean;
  maxBufferLength: number;
  workingSetBytes: number;
  /** MPSSupportsMTLDevice: whether INKLING_METAL_GEMM=mps can use MPSMatrixMultiplication. */
  mps: boolean;
  gemm: MetalGemmName;
}

export interface NativeMetalContext extends NativeDeviceContext {
  info(): MetalDeviceInfo;
  setGemm(mode: number): void;
}

export interface MetalAddon {
  /** Compiles `librarySource` (newLibraryWithSource) and builds every pipeline; throws with
   *  Metal's compiler message when it fails. gemm: 0 simdgroup, 1 mps. */
  MetalContext: new (librarySource: string, gemm: number) => NativeMetalContext;
  /** Why there is no device here (e.g. MTLCreateSystemDefaultDevice returned nil), or null. */
  unavailableReason(): string | null;
  /** The kernels the library must define (native/metal/host/launch.cc). */
  kernelNames(): string[];
}

/** INKLING_METAL_GEMM / the `gemm` option: 'simdgroup' (default) or 'mps'. */
export function parseMetalGemm(value: string | undefined): MetalGemmName {
  if (value === undefined || value === '') return 'simdgroup';
  if (value === 'simdgroup' || value === 'mps') return value;
  throw new Error(`metal backend: INKLING_METAL_GEMM must be 'simdgroup' or 'mps', got '${value}'`);
}

const cache = new Map<string, MetalAddon>();

/** Loads an addon of this surface (the Metal one, or the emulator's), or throws naming the fix. */
export function loadMetalSurfaceAddon(path: string, buildHint: string): MetalAddon {
  const hit = cache.get(path);
  if (hit) return hit;
  if (!existsSync(path)) throw new Error(`the addon is not built (${path} is missing). Fix: ${buildHint}`);
  let addon: MetalAddon;
  try {
    addon = createRequire(import.meta.url)(path) as MetalAddon;
  } catch (err) {
    throw new Error(`the addon at ${path} failed to load: ${err instanceof Error ? err.message : String(err)}. Fix: ${buildHint}`, { cause: err });
  }
  if (typeof addon.MetalContext !== 'function') throw new Error(`${path} is not an inkling Metal addon. Fix: ${buildHint}`);
  cache.set(path, addon);
  return addon;
}
