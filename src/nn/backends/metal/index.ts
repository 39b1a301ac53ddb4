// The metal backend: our Metal Shading Language kernels (native/metal/) behind the Backend
// contract, on Apple Silicon and other Macs with Metal 3.
//   createMetalBackend({ gemm? })   gemm: 'simdgroup' (default) | 'mps', or INKLING_METAL_GEMM
// Rejects with the reason and the fix where it cannot run: any OS but macOS, the addon not built,
// no Metal device, or a library that does not compile (Metal's compiler message).

import type { Backend } from '../../backend.ts';
import type { BackendOptions } from '../registry.ts';
import { metalLibrarySource } from './library-source.ts';
import { MetalBackend } from './metal-backend.ts';
import { loadMetalSurfaceAddon, metalAddonPath, parseMetalGemm, type MetalGemmName } from './native.ts';

export { MetalBackend, metalLibrarySource, parseMetalGemm };
export type { MetalGemmName };

export interface MetalBackendOptions extends BackendOptions {
  gemm?: MetalGemmName;
}

export async function createMetalBackend(opts: MetalBackendOptions = {}): Promise<Backend> {
  if (process.platform !== 'darwin') {
    throw new Error(
      `metal backend: Metal exists only on macOS (this is ${process.platform}). ` +
        'Use cpu or webgpu here; the metal-emu backend runs the same Metal kernels on the CPU for testing ' +
        '(npm run test:metal-emu). On a Mac: npm install, then scripts/mac-check.sh.',
    );
  }
  const gemm = opts.gemm ?? parseMetalGemm(process.env.INKLING_METAL_GEMM);
  let addon;
  try {
    addon = loadMetalSurfaceAddon(metalAddonPath(), 'install the Xcode command-line tools (xcode-select --install), then `npm run build:cpu` (it builds both addons)');
  } catch (err) {
    throw new Error(`metal backend: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const why = addon.unavailableReason();
  if (why) throw new Error(`metal backend: no Metal device: ${why}. Fix: run on a Mac with a Metal GPU, or choose another backend (--backend cpu).`);
  try {
    return new MetalBackend(new addon.MetalContext(metalLibrarySource(), gemm === 'mps' ? 1 : 0));
  } catch (err) {
    throw new Error(`metal backend: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
