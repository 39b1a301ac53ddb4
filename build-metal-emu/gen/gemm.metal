#line 1 "native/metal/gemm.metal"
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
/*kernel*/ void gemm_f32(device const float* a, device const float* b,
                     device float* out, device const float* bias,
                     device float* partial, constant GemmArgs& g,
                     uint3 group = ::msl_emu::builtin(::msl_emu::Builtin::ThreadgroupPositionInGrid),
                     uint tid = ::msl_emu::builtin(::msl_emu::Builtin::ThreadIndexInThreadgroup), uint sg = ::msl_emu::builtin(::msl_emu::Builtin::SimdgroupIndexInThreadgroup)) {
  INKLING_EMU_GROUP_SHARED float As[ink::BM * ink::BK];
  INKLING_EMU_GROUP_SHARED float Bs[ink::BK * ink::BN];
  INKLING_EMU_GROUP_SHARED float Cs[ink::BM * ink::BN];
  const ink::DenseA A{a, g.M, g.K, g.transA != 0};
  const ink::DenseB B{b, g.K, g.N, g.transB != 0};
  ink::gemmTile(A, B, g, out, bias, partial, group, tid, sg, As, Bs, Cs);
}

// Adds the split-K partials in z order (deterministic) and applies the epilogue; one thread per
// output element. Buffers as gemm_f32's out, bias, partial.
/*kernel*/ void gemm_split_reduce(device float* out, device const float* bias,
                              device const float* partial, constant GemmArgs& g,
                              uint i = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)) {
  const uint total = uint(g.M) * uint(g.N);
  if (i >= total) return;
  float s = 0.0f;
  for (uint z = 0; z < g.splits; z++) s += partial[ulong(z) * total + i];
  ink::storeResult(g, out, bias, int(i / uint(g.N)), int(i % uint(g.N)), s);
}

// The MPS path's epilogue: out = (accumulate ? out : 0) + act(product + bias), product = the
// MPSMatrixMultiplication result in scratch (row-major M×N).
/*kernel*/ void gemm_epilogue(device float* out, device const float* bias,
                          device const float* product, constant GemmArgs& g,
                          uint i = ::msl_emu::builtin(::msl_emu::Builtin::ThreadPositionInGrid)) {
  const uint total = uint(g.M) * uint(g.N);
  if (i >= total) return;
  ink::storeResult(g, out, bias, int(i / uint(g.N)), int(i % uint(g.N)), product[i]);
}
// ---- registrations (metal-emu pre-pass) ----
static const ::msl_emu::KernelRegistration inkling_emu_register_gemm_f32("gemm_f32", 6, "native/metal/gemm.metal", 16, [](const ::msl_emu::BoundArgs& a) { gemm_f32(::msl_emu::bind<device const float*>(a, 0), ::msl_emu::bind<device const float*>(a, 1), ::msl_emu::bind<device float*>(a, 2), ::msl_emu::bind<device const float*>(a, 3), ::msl_emu::bind<device float*>(a, 4), ::msl_emu::bind<constant GemmArgs&>(a, 5)); });
static const ::msl_emu::KernelRegistration inkling_emu_register_gemm_split_reduce("gemm_split_reduce", 4, "native/metal/gemm.metal", 29, [](const ::msl_emu::BoundArgs& a) { gemm_split_reduce(::msl_emu::bind<device float*>(a, 0), ::msl_emu::bind<device const float*>(a, 1), ::msl_emu::bind<device const float*>(a, 2), ::msl_emu::bind<constant GemmArgs&>(a, 3)); });
static const ::msl_emu::KernelRegistration inkling_emu_register_gemm_epilogue("gemm_epilogue", 4, "native/metal/gemm.metal", 41, [](const ::msl_emu::BoundArgs& a) { gemm_epilogue(::msl_emu::bind<device float*>(a, 0), ::msl_emu::bind<device const float*>(a, 1), ::msl_emu::bind<device const float*>(a, 2), ::msl_emu::bind<constant GemmArgs&>(a, 3)); });
