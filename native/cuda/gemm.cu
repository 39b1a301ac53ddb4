// matmul: C[m,n] = (accumulate ? C : 0) + act(op(A)[m,k] · op(B)[k,n] + bias[n])
//
// Build and run the standalone check and benchmark (needs a GPU; cuBLAS is optional):
//   nvcc -O3 -std=c++17 -arch=sm_90 -o gemm_check native/cuda/dev/gemm_check.cu && ./gemm_check
//   nvcc -O3 -std=c++17 -arch=sm_90 -DWITH_CUBLAS -o gemm_check native/cuda/dev/gemm_check.cu -lcublas && ./gemm_check
// Versions (dev/gemm_check.cu times every one at the conv2 shape M = N·196, K = 288, N = 64):
//   version 1: naive, one thread per output, fp32 (dev harness only: the CPU-free oracle on big shapes)
//   version 2: SIMT tiled, 128×64×16 block tile, 8×4 register block, double-buffered smem  [default]
//   version 3: TF32 tensor cores (mma.sync.m16n8k8), same tiles; ~1e-3 relative error
// The addon picks version 2 or 3 from INKLING_CUDA_GEMM=simt|tf32 (default simt, so that results
// match the ref backend to fp32 accuracy). Reference: the CPU triple loop in dev/gemm_check.cu and
// the ref backend (src/nn/backends/ref/matmul.ts) through the conformance table.
// The kernel itself, its napkin math and split-K live in gemm_tile.cuh.
#include "gemm_tile.cuh"
#include "kernels.h"

namespace inkling {

void launchMatmul(const LaunchEnv& env, GemmVariant v, const float* a, const float* b, const float* bias, float* out,
                  int m, int n, int k, bool transA, bool transB, bool accumulate, bool relu) {
  using namespace gemm;
  const bool tf32 = v == GemmVariant::Tf32;
  const Epilogue e{bias, relu, accumulate};
  const RowMajor L{out, n};
  // Four transpose combinations, each its own instantiation so the inner loads have no branch.
  if (!transA && !transB) runGemm(env, tf32, DenseA<false>{a, m, k}, DenseB<false>{b, k, n}, L, e, m, n, k);
  else if (!transA && transB) runGemm(env, tf32, DenseA<false>{a, m, k}, DenseB<true>{b, k, n}, L, e, m, n, k);
  else if (transA && !transB) runGemm(env, tf32, DenseA<true>{a, m, k}, DenseB<false>{b, k, n}, L, e, m, n, k);
  else runGemm(env, tf32, DenseA<true>{a, m, k}, DenseB<true>{b, k, n}, L, e, m, n, k);
}

}  // namespace inkling
