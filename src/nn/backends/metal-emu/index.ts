// The metal-emu backend: the Metal backend's own TypeScript (../metal/metal-backend.ts) and host
// C++ (native/metal/host/) over the emulator's addon, in which the real native/metal/*.metal
// kernels, compiled as C++ under an MSL shim, run on the SIMT emulator (native/emu/). For
// verification on Linux; far too slow for real work (`npm run test:metal-emu` is its CI stage).
//   createMetalEmuBackend({ gemm? })  gemm 'simdgroup' (default); 'mps' falls back to it (no MPS here)
// The emulator's own switches apply: INKLING_EMU_ORDER=forward|reverse, INKLING_EMU_MODE=fibers|threads.

import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Backend } from '../../backend.ts';
import type { BackendOptions } from '../registry.ts';
import { MetalBackend } from '../metal/metal-backend.ts';
import { loadMetalSurfaceAddon, parseMetalGemm, type MetalGemmName } from '../metal/native.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

/** INKLING_METAL_EMU_ADDON, else build-metal-emu/Release/inkling_metal_emu.node. */
export function metalEmuAddonPath(): string {
  return process.env.INKLING_METAL_EMU_ADDON || join(repoRoot, 'build-metal-emu', 'Release', 'inkling_metal_emu.node');
}

export interface MetalEmuBackendOptions extends BackendOptions {
  gemm?: MetalGemmName;
}

export function loadMetalEmuAddon(): ReturnType<typeof loadMetalSurfaceAddon> {
  try {
    return loadMetalSurfaceAddon(metalEmuAddonPath(), 'build it with `npm run build:metal-emu` (needs g++ 12 and libglm-dev)');
  } catch (err) {
    throw new Error(`metal-emu backend: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

export async function createMetalEmuBackend(opts: MetalEmuBackendOptions = {}): Promise<Backend> {
  const gemm = opts.gemm ?? parseMetalGemm(process.env.INKLING_METAL_GEMM);
  const addon = loadMetalEmuAddon();
  // The emulator's kernels are compiled in; the library source is not needed.
  return new MetalBackend(new addon.MetalContext('', gemm === 'mps' ? 1 : 0), 'metal-emu');
}
