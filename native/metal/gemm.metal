// matmul: C[m,n] = (accumulate ? C : 0) + act(op(A)[m,k]·op(B)[k,n] + bias[n])
// Versions (INKLING_METAL_GEMM / createMetalBackend({ gemm })):
//   simdgroup  [default] gemm_tile.h: 32×32×16 threadgroup tiles on simdgroup_float8x8 matrices
//   mps        MPSMatrixMultiplication (MetalPerformanceShaders; host side in addon/metal_device.mm)
//              into scratch, then gemm_epilogue for bias / ReLU / accumulate
// Both are fp32 multiply-accumulate: results match the ref backend to fp32 rounding.
// The transposes are loader flags (GemmArgs.transA/transB): one entry point for all four.
#include "gemm_tile.h"

// Buffers: 0 A, 1 B, 2 out, 3 bias (bound to out when absent: hasBias = 0), 4 split-K partials
// (bound to out when splits = 1), 5 GemmArgs.
kernel void gemm_f32(device const float* a [[buffer(0)]], device const float* b [[buffer(1)]],
                     device float* out [[buffer(2)]], device const float* bias [[buffer(3)]],
                     device float* partial [[buffer(4)]], constant GemmArgs& g [[buffer(5)]],
                     uint3 group [[threadgroup_position_in_grid]],
                     uint tid [[thread_index_in_threadgroup]], uint sg [[simdgroup_index_in_threadgroup]]) {
  threadgroup float As[ink::BM * ink::BK];
  threadgroup float Bs[ink::BK * ink::BN];
  threadgroup float Cs[ink::BM * ink::BN];
  const ink::DenseA A{a, g.M, g.K, g.transA != 0};
  const ink::DenseB B{b, g.K, g.N, g.transB != 0};
  ink::gemmTile(A, B, g, out, bias, partial, group, tid, sg, As, Bs, Cs);
}

// Adds the split-K partials in z order (deterministic) and applies the epilogue; one thread per
// output element. Buffers as gemm_f32's out, bias, partial.
kernel void gemm_split_reduce(device float* out [[buffer(0)]], device const float* bias [[buffer(1)]],
                              device const float* partial [[buffer(2)]], constant GemmArgs& g [[buffer(3)]],
                              uint i [[thread_position_in_grid]]) {
  const uint total = uint(g.M) * uint(g.N);
  if (i >= total) return;
  float s = 0.0f;
  for (uint z = 0; z < g.splits; z++) s += partial[ulong(z) * total + i];
  ink::storeResult(g, out, bias, int(i / uint(g.N)), int(i % uint(g.N)), s);
}

// The MPS path's epilogue: out = (accumulate ? out : 0) + act(product + bias), product = the
// MPSMatrixMultiplication result in scratch (row-major M×N).
kernel void gemm_epilogue(device float* out [[buffer(0)]], device const float* bias [[buffer(1)]],
                          device const float* product [[buffer(2)]], constant GemmArgs& g [[buffer(3)]],
                          uint i [[thread_position_in_grid]]) {
  const uint total = uint(g.M) * uint(g.N);
  if (i >= total) return;
  ink::storeResult(g, out, bias, int(i / uint(g.N)), int(i % uint(g.N)), product[i]);
}
