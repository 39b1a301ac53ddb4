// The argument blocks of every Metal kernel, shared by the kernels (MSL), the launchers
// (host/launch.cc, C++) and the emulator's C++ build of the kernels. Each block holds 4-byte
// scalars only (no bool, no vectors), so MSL and C++ lay it out identically; the host passes it
// with setBytes:length:atIndex: (Metal) or by pointer (emulator) at the index after the buffers.
#pragma once
#if defined(__METAL_VERSION__)
typedef int i32;
typedef uint u32;
#else
#include <cstdint>
typedef int32_t i32;
typedef uint32_t u32;
#endif

// ---- elementwise.metal ----
struct EltArgs {
  u32 n;
  u32 op;          // UnaryOp / BinaryOp code (src/nn/backends/cuda/params.ts)
  float alpha, beta;
  u32 bits;        // fill32: the 32-bit pattern
  u32 accumulate;  // reluBackward
};

// ---- dropout.metal (the counter hash of src/nn/dropout-rng.ts) ----
struct DropoutArgs {
  u32 n, seed, step, keepThreshold;
  float keepScale;
  u32 spatial, accumulate;
};

// ---- reduce.metal ----
struct ChannelSumArgs {
  u32 outer, channels, inner, chunks, accumulate;
};
struct RowsArgs {  // argmax, softmax, cross-entropy
  u32 rows, cols, logarithm;
  float smoothing;
  u32 accumulate;
};
struct CountArgs {
  u32 n, accumulate;
};

// ---- gemm.metal / conv.metal: C[m, n] = Σ_k A(m, k)·B(k, n) ----
enum GemmLayout { kRowMajor = 0, kColMajor = 1, kNchwRows = 2 };
struct GemmArgs {
  i32 M, N, K, kPerSplit;
  u32 splits;      // > 1: raw partial sums go to partial[z][M][N]; gemm_split_reduce finishes
  u32 hasBias, relu, accumulate;
  u32 layout;      // GemmLayout
  u32 ldc;         // row/col-major leading dimension
  u32 channels, hw;  // NCHW rows: m = image·hw + pixel, n = channel
  u32 transA, transB;  // matmul: A stored [K,M], B stored [N,K]
  // convolution geometry (conv.metal's loaders)
  i32 n, cIn, h, w, cOut, kh, kw, stride, pad, hOut, wOut;
};

// ---- batchnorm.metal ----
struct BnArgs {
  u32 n, c, spatial, chunks;
  float eps, momentum;
  u32 relu, accumulate;
  u32 inference;   // bn_apply: 1 = scale from running_var (1/sqrt(var + eps)), 0 = saved invStd
};

// ---- pool.metal ----
struct PoolArgs {
  u32 n, c, h, w, kh, kw, stride, hOut, wOut, total;
};

// ---- optim.metal ----
struct SgdArgs {
  u32 n;
  float lr, momentum, dampening, weightDecay;
  u32 nesterov;
};
struct AdamArgs {
  u32 n;
  float lr, beta1, beta2, eps, weightDecay;
  u32 decoupled;
  float bias1, bias2;  // 1 − β1^t, 1 − β2^t, computed on the host in double
};
