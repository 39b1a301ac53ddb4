// The kernel table: one entry per kernel of the Backend contract (src/nn/backend.ts), filled in
// four times from the same source (kernels_impl.h + impl/*.h): compiled for AVX-512
// (kernels_avx512.cc, -mavx512f/bw/dq/vl), for AVX2+FMA (kernels_avx2.cc, -mavx2 -mfma; both
// x86-64 only), NEON (kernels_neon.cc; AArch64 only) and portable (kernels_portable.cc). isa.cc
// picks a table at run time from CPUID + XGETBV / HWCAP or INKLING_CPU_ISA. Semantics and shapes
// are the contract's; comments there are the spec.
#pragma once

#include <cstdint>
#include <string>

namespace inkling {

struct Context;
using i64 = int64_t;

enum UnaryOp : int { kNeg = 0, kExp, kLog, kSqrt, kAbs, kRelu };
enum BinaryOp : int { kAdd = 0, kSub, kMul, kDiv, kMax };

// Host-only shapes: the output size is computed where it is needed. native/cuda/kernels.h and
// native/metal/host/launch.h define structs of the same names that also carry hOut and wOut,
// because they are copied by value into kernel arguments and read by every GPU thread (no
// division per thread). The addons are separate shared objects, never linked together; the
// fields and their order come from the contract's Conv2dParams / Pool2dParams (src/nn/backend.ts).
struct ConvShape {
  int n, cIn, h, w, cOut, kh, kw, stride, pad;
  int hOut() const { return (h + 2 * pad - kh) / stride + 1; }
  int wOut() const { return (w + 2 * pad - kw) / stride + 1; }
};

struct PoolShape {
  int n, c, h, w, kh, kw, stride;
  int hOut() const { return (h - kh) / stride + 1; }
  int wOut() const { return (w - kw) / stride + 1; }
};

struct KernelTable {
  const char* isa;

  void (*unary)(Context&, int op, const float* x, float* out, i64 n);
  void (*binary)(Context&, int op, const float* a, const float* b, float* out, i64 n);
  void (*scale)(Context&, const float* x, float alpha, float beta, float* out, i64 n);
  void (*axpy)(Context&, float alpha, const float* x, float* y, i64 n);
  void (*reluBackward)(Context&, const float* x, const float* dy, float* dx, i64 n, bool accumulate);
  void (*channelSum)(Context&, const float* x, float* out, i64 outer, i64 channels, i64 inner, bool accumulate);
  void (*argmax)(Context&, const float* x, int32_t* out, i64 rows, i64 cols);
  void (*countEqual)(Context&, const int32_t* a, const int32_t* b, float* out, i64 n, bool accumulate);

  /** C[m,n] = op(A)·op(B) (+ bias[n]) (relu); accumulate adds the result to C. */
  void (*matmul)(Context&, const float* a, const float* b, const float* bias, float* c, int m, int n, int k,
                 bool transA, bool transB, bool accumulate, bool relu);

  /** weightStamp identifies the weights' contents (0: unknown); filters derived from them (Winograd's)
   *  are cached under (w, weightStamp) and reused while both match. */
  void (*conv2d)(Context&, const float* x, const float* w, const float* bias, float* out, const ConvShape& s, bool relu,
                 double weightStamp);
  void (*conv2dBackwardInput)(Context&, const float* dy, const float* w, float* dx, const ConvShape& s, bool accumulate);
  void (*conv2dBackwardWeight)(Context&, const float* x, const float* dy, float* dw, float* db, const ConvShape& s,
                               bool accumulate);
  /** conv2d (relu) then a max pool (poolKh x poolKw, poolStride) of its output; neither the
   *  convolution's output nor the argmax is stored (inference). */
  void (*conv2dMaxPool)(Context&, const float* x, const float* w, const float* bias, float* out, const ConvShape& s,
                        bool relu, int poolKh, int poolKw, int poolStride, double weightStamp);

  void (*batchNormTrain)(Context&, const float* x, const float* gamma, const float* beta, float* runningMean,
                         float* runningVar, float* out, float* saveMean, float* saveInvStd, int n, int c, i64 spatial,
                         float eps, float momentum, bool relu);
  void (*batchNormInference)(Context&, const float* x, const float* gamma, const float* beta, const float* runningMean,
                             const float* runningVar, float* out, int n, int c, i64 spatial, float eps, bool relu);
  void (*batchNormBackward)(Context&, const float* x, const float* dy, const float* gamma, const float* saveMean,
                            const float* saveInvStd, float* dx, float* dgamma, float* dbeta, int n, int c, i64 spatial,
                            bool accumulate);

  /** Fused batch norm (training) + optional ReLU + max pool; the normalised tensor is never stored. */
  void (*batchNormMaxPoolTrain)(Context&, const float* x, const float* gamma, const float* beta, float* runningMean,
                                float* runningVar, float* out, int32_t* argmax, float* saveMean, float* saveInvStd,
                                const PoolShape& s, float eps, float momentum, bool relu);
  void (*batchNormMaxPoolBackward)(Context&, const float* x, const float* out, const int32_t* argmax, const float* dy,
                                   const float* gamma, const float* saveMean, const float* saveInvStd, float* dx,
                                   float* dgamma, float* dbeta, const PoolShape& s, bool relu, bool accumulate);

  /** Whether the two below run as one kernel for this convolution (else they return false). */
  bool (*convBatchNormMaxPoolApplies)(const ConvShape& s);
  /** Fused convolution + batch norm (training) + optional ReLU + max pool for an input without
   *  gradient; false when the shape has no fused kernel here (the caller composes the unfused ones). */
  bool (*convBatchNormMaxPoolTrain)(Context&, const float* x, const float* w, const float* bias, const float* gamma,
                                    const float* beta, float* runningMean, float* runningVar, float* out,
                                    int32_t* argmax, float* saveMean, float* saveInvStd, const ConvShape& s,
                                    int poolKh, int poolKw, int poolStride, float eps, float momentum, bool relu,
                                    double xStamp);
  bool (*convBatchNormMaxPoolBackward)(Context&, const float* x, const float* w, const float* bias, const float* out,
                                       const int32_t* argmax, const float* dy, const float* gamma,
                                       const float* beta, const float* saveMean, const float* saveInvStd, float* dw, float* dgamma,
                                       float* dbeta, const ConvShape& s, int poolKh, int poolKw, int poolStride,
                                       bool relu, bool accumulate, double xStamp);

  void (*maxPool2d)(Context&, const float* x, float* out, int32_t* argmax, const PoolShape& s);
  void (*maxPool2dBackward)(Context&, const float* dy, const int32_t* argmax, float* dx, const PoolShape& s);
  void (*avgPool2d)(Context&, const float* x, float* out, const PoolShape& s);
  void (*avgPool2dBackward)(Context&, const float* dy, float* dx, const PoolShape& s);

  void (*dropout)(Context&, const float* x, float* out, i64 n, double p, uint32_t seed, uint32_t step, i64 spatial,
                  bool accumulate);

  void (*softmax)(Context&, const float* x, float* out, i64 rows, i64 cols, bool logarithm);
  void (*softmaxCrossEntropy)(Context&, const float* logits, const int32_t* labels, float* probs, float* loss, i64 rows,
                              i64 cols, double labelSmoothing);
  void (*softmaxCrossEntropyBackward)(Context&, const float* probs, const int32_t* labels, const float* dloss,
                                      float* dlogits, i64 rows, i64 cols, double labelSmoothing, bool accumulate);

  void (*sgdStep)(Context&, float* param, const float* grad, float* velocity, i64 n, double lr, double momentum,
                  double dampening, bool nesterov, double weightDecay);
  void (*adamStep)(Context&, float* param, const float* grad, float* m, float* v, i64 n, double lr, double beta1,
                   double beta2, double eps, double weightDecay, bool decoupled, double step);

  /** Microbenchmarks for bench:kernels: peak FMA rate (GFLOP/s) over `threads` threads, and a
   *  streaming triad (GB/s). */
  double (*peakFmaGflops)(Context&, int threads, double seconds);
  double (*triadGBps)(Context&, int threads, double seconds);
};

const KernelTable* portableKernels();
const KernelTable* avx2Kernels();    // nullptr when this build has no AVX2 path (not x86-64)
const KernelTable* avx512Kernels();  // nullptr when this build has no AVX-512 path (not x86-64)
const KernelTable* neonKernels();    // nullptr when this build has no NEON path (not AArch64)
/** True in the test-only build whose AVX-512 table runs on SIMD Everywhere (native/cpu/simde/). */
bool avx512Emulated();

/** What CPUID (leaf 1 ECX, leaf 7 EBX) and XGETBV (XCR0, read only when OSXSAVE is set) say. */
struct CpuFeatures {
  bool fma = false, osxsave = false, avx2 = false;
  bool avx512f = false, avx512dq = false, avx512bw = false, avx512vl = false;
  bool osYmm = false, osZmm = false;
  uint64_t xcr0 = 0;
};
CpuFeatures cpuFeaturesFrom(uint32_t leaf1Ecx, uint32_t leaf7Ebx, uint64_t xcr0);
CpuFeatures detectCpuFeatures();
/** Why a path cannot run with these features ("" when it can). */
std::string avx2Missing(const CpuFeatures& f);
std::string avx512Missing(const CpuFeatures& f);
/** Why this build's table cannot run on this machine ("" when it can). */
std::string avx2Unavailable();
std::string avx512Unavailable();

/** The table for `isa` ("auto", "avx512", "avx2", "neon", "portable"); throws a message when it cannot run here. */
const KernelTable* selectKernels(const char* isa);
bool cpuHasAvx2Fma();
bool cpuHasNeon();

}  // namespace inkling
