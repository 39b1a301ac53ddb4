// The cuda-emu backend: the cuda backend's TypeScript (src/nn/backends/cuda/) over the emulator build
// of the same native sources (inkling_cuda_emu.node: native/cuda compiled by g++ against the SIMT
// emulator of native/emu/), so the real CUDA kernels, launchers, allocator and graph code run on the
// CPU. For verification only: it is thousands of times slower than a GPU. The emulator reads
// INKLING_EMU_ORDER (forward | reverse) and INKLING_EMU_MODE (fibers | threads) at every launch.

import type { BackendOptions } from '../registry.ts';
import { CudaBackend } from '../cuda/cuda-backend.ts';
import { cudaEmuAddonPath, loadCudaEmuAddon } from '../cuda/native.ts';
import { parseGemmVariant, type GemmVariantName } from '../cuda/params.ts';

export { cudaEmuAddonPath, loadCudaEmuAddon };

export interface CudaEmuBackendOptions extends BackendOptions {
  /** GEMM behind matmul and conv (default INKLING_CUDA_GEMM, else 'simt'). */
  gemm?: GemmVariantName;
}

export async function createCudaEmuBackend(opts: CudaEmuBackendOptions = {}): Promise<CudaBackend> {
  const gemm = opts.gemm ?? parseGemmVariant(process.env.INKLING_CUDA_GEMM);
  const addon = loadCudaEmuAddon();
  try {
    return new CudaBackend(new addon.CudaContext(0, gemm === 'tf32' ? 1 : 0), 'cuda-emu');
  } catch (err) {
    throw new Error(`cuda-emu backend: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}
