// Host-side launchers of every Metal kernel (one .metal file per family), in plain C++: they
// choose grid sizes, split-K and scratch, fill the argument blocks of ../args.h and hand each
// dispatch to an Encoder. Two encoders exist: the Metal one (../addon/metal_device.mm: a
// MTLComputeCommandEncoder of the current command buffer) and the emulator's (native/emu/metal/,
// which runs the same .metal sources compiled as C++). So everything from here up — these
// launchers, the N-API surface (addon_surface.cc) and the TypeScript backend — is the code a Mac
// runs, exercised on Linux by the metal-emu backend.
//
// Buffers are handles: (buffer id << 32) | byte offset, 0 = none (src/nn/backends/metal/ packs
// them; ids start at 1). A launcher never dereferences them.
#pragma once
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "../args.h"

namespace inkling::metal {

using Handle = uint64_t;

struct MetalError : std::runtime_error {
  explicit MetalError(const std::string& what) : std::runtime_error(what) {}
};

struct Grid {
  uint32_t x = 1, y = 1, z = 1;
};

/** Where kernels go. Arguments bind in order: buffers at indices 0..count−1, then the argument
 *  block (setBytes) at index `count`. Threadgroups are `groups`, each `threads` wide (1-D). */
class Encoder {
 public:
  virtual ~Encoder() = default;
  virtual void dispatch(const char* kernel, const Handle* buffers, int count, const void* args, size_t argBytes,
                        Grid groups, uint32_t threads) = 0;
  /** Device memory valid until the work encoded so far and next has run (the current command
   *  buffer); zero-length requests return a valid handle too. */
  virtual Handle scratch(size_t bytes) = 0;
  /** MPSMatrixMultiplication, row-major C[M×N] = op(A)·op(B) (β = 0). False when this encoder
   *  has no MPS (the emulator), and the caller uses its own GEMM. */
  virtual bool mpsMatmul(Handle a, Handle b, Handle c, int m, int n, int k, bool transA, bool transB) = 0;
};

enum class GemmMode { Simdgroup = 0, Mps = 1 };

/** GEMM shapes as in native/cuda/kernels.h. */
struct ConvShape {
  int n, cIn, h, w, cOut, kh, kw, stride, pad, hOut, wOut;
};
struct PoolShape {
  int n, c, h, w, kh, kw, stride, hOut, wOut;
};
struct BnShape {
  int n, c, spatial;
  float eps, momentum;
};

void launchFill32(Encoder& e, Handle out, uint32_t bits, uint64_t n);
void launchUnary(Encoder& e, int op, Handle x, Handle out, uint64_t n);
void launchBinary(Encoder& e, int op, Handle a, Handle b, Handle out, uint64_t n);
void launchScale(Encoder& e, Handle x, float alpha, float beta, Handle out, uint64_t n);
void launchAxpy(Encoder& e, float alpha, Handle x, Handle y, uint64_t n);
void launchReluBackward(Encoder& e, Handle x, Handle dy, Handle dx, uint64_t n, bool accumulate);
void launchDropout(Encoder& e, Handle x, Handle out, uint64_t n, uint32_t seed, uint32_t step, uint32_t keepThreshold,
                   float keepScale, uint64_t spatial, bool accumulate);
void launchChannelSum(Encoder& e, Handle x, Handle out, int outer, int channels, int inner, bool accumulate);
void launchArgmax(Encoder& e, Handle x, Handle out, int rows, int cols);
void launchCountEqual(Encoder& e, Handle a, Handle b, Handle out, uint64_t n, bool accumulate);
void launchMatmul(Encoder& e, GemmMode mode, Handle a, Handle b, Handle bias, Handle out, int m, int n, int k,
                  bool transA, bool transB, bool accumulate, bool relu);
void launchConv2d(Encoder& e, Handle x, Handle w, Handle bias, Handle out, const ConvShape& s, bool relu);
void launchConv2dBackwardInput(Encoder& e, Handle dy, Handle w, Handle dx, const ConvShape& s, bool accumulate);
void launchConv2dBackwardWeight(Encoder& e, Handle x, Handle dy, Handle dw, Handle db, const ConvShape& s,
                                bool accumulate);
void launchBatchNormTrain(Encoder& e, Handle x, Handle gamma, Handle beta, Handle runningMean, Handle runningVar,
                          Handle out, Handle saveMean, Handle saveInvStd, const BnShape& s, bool relu);
void launchBatchNormInference(Encoder& e, Handle x, Handle gamma, Handle beta, Handle runningMean, Handle runningVar,
                              Handle out, const BnShape& s, bool relu);
void launchBatchNormBackward(Encoder& e, Handle x, Handle dy, Handle gamma, Handle saveMean, Handle saveInvStd,
                             Handle dx, Handle dgamma, Handle dbeta, const BnShape& s, bool accumulate);
void launchMaxPool2d(Encoder& e, Handle x, Handle out, Handle argmax, const PoolShape& s);
void launchMaxPool2dBackward(Encoder& e, Handle dy, Handle argmax, Handle dx, const PoolShape& s);
void launchAvgPool2d(Encoder& e, Handle x, Handle out, const PoolShape& s);
void launchAvgPool2dBackward(Encoder& e, Handle dy, Handle dx, const PoolShape& s);
void launchSoftmax(Encoder& e, Handle x, Handle out, int rows, int cols, bool logarithm);
void launchSoftmaxCrossEntropy(Encoder& e, Handle logits, Handle labels, Handle probs, Handle loss, int rows, int cols,
                               float smoothing);
void launchSoftmaxCrossEntropyBackward(Encoder& e, Handle probs, Handle labels, Handle dloss, Handle dlogits, int rows,
                                       int cols, float smoothing, bool accumulate);
void launchSgdStep(Encoder& e, Handle param, Handle grad, Handle velocity, uint64_t n, float lr, float momentum,
                   float dampening, float weightDecay, bool nesterov);
void launchAdamStep(Encoder& e, Handle param, Handle grad, Handle m, Handle v, uint64_t n, float lr, double beta1,
                    double beta2, float eps, float weightDecay, bool decoupled, double step);

/** The kernels the library must contain (the host checks them all when it builds pipelines). */
extern const char* const kKernelNames[];
extern const int kKernelCount;

}  // namespace inkling::metal
