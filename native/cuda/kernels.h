// Host-side launchers of every kernel family (one .cu file per family). The addon (addon/*.cpp,
// compiled by the host C++ compiler) calls only these; the dev harnesses in dev/ call them too.
// All pointers are device pointers; every launcher only enqueues work on env.stream.
#pragma once
#include "common.cuh"

namespace inkling {

enum class GemmVariant { Simt = 0, Tf32 = 1 };

// ---- gemm.cu: C[m,n] = (acc ? C : 0) + act(op(A)·op(B) + bias[n]) ----
void launchMatmul(const LaunchEnv& env, GemmVariant v, const float* a, const float* b, const float* bias, float* out,
                  int m, int n, int k, bool transA, bool transB, bool accumulate, bool relu);

// ---- conv.cu: implicit-GEMM convolution (NCHW, OIHW) ----
// The contract's Conv2dParams plus the output size, precomputed on the host: the struct is a
// kernel argument read by every thread. native/cpu/kernels.h has a host-only ConvShape without
// hOut/wOut (a different addon, never linked with this one); native/metal/host/launch.h mirrors
// this one field for field.
struct ConvShape {
  int n, cIn, h, w, cOut, kh, kw, stride, pad, hOut, wOut;
};
void launchConv2d(const LaunchEnv& env, GemmVariant v, const float* x, const float* w, const float* bias, float* out,
                  const ConvShape& s, bool relu);
void launchConv2dBackwardInput(const LaunchEnv& env, GemmVariant v, const float* dy, const float* w, float* dx,
                               const ConvShape& s, bool accumulate);
void launchConv2dBackwardWeight(const LaunchEnv& env, GemmVariant v, const float* x, const float* dy, float* dw,
                                float* db, const ConvShape& s, bool accumulate);

// ---- elementwise.cu ----
enum class UnaryOp { Neg = 0, Exp, Log, Sqrt, Abs, Relu };
enum class BinaryOp { Add = 0, Sub, Mul, Div, Max };
void launchFill32(const LaunchEnv& env, uint32_t* out, uint32_t bits, long long n);
void launchUnary(const LaunchEnv& env, UnaryOp op, const float* x, float* out, long long n);
void launchBinary(const LaunchEnv& env, BinaryOp op, const float* a, const float* b, float* out, long long n);
void launchScale(const LaunchEnv& env, const float* x, float alpha, float beta, float* out, long long n);
void launchAxpy(const LaunchEnv& env, float alpha, const float* x, float* y, long long n);
void launchReluBackward(const LaunchEnv& env, const float* x, const float* dy, float* dx, long long n, bool accumulate);
void launchSetHyper(const LaunchEnv& env, HyperBlock* hyper, float lrOverride, uint32_t stepDelta);

// ---- dropout.cu: the counter hash of src/nn/dropout-rng.ts ----
// keepThreshold = ceil(p·2^24): kept iff (bits >> 8) >= keepThreshold (exact, no float compare).
void launchDropout(const LaunchEnv& env, const float* x, float* out, long long n, uint32_t seed, uint32_t step,
                   uint32_t keepThreshold, float keepScale, long long spatial, bool backward, bool accumulate);

// ---- reduce.cu (deterministic: fixed partition, fixed-order trees, no float atomics) ----
void launchChannelSum(const LaunchEnv& env, const float* x, float* out, int outer, int channels, int inner, bool accumulate);
void launchArgmax(const LaunchEnv& env, const float* x, int32_t* out, int rows, int cols);
void launchCountEqual(const LaunchEnv& env, const int32_t* a, const int32_t* b, float* out, long long n, bool accumulate);

// ---- batchnorm.cu ----
struct BnShape {
  int n, c, spatial;
  float eps, momentum;
};
void launchBatchNormTrain(const LaunchEnv& env, const float* x, const float* gamma, const float* beta, float* runningMean,
                          float* runningVar, float* out, float* saveMean, float* saveInvStd, const BnShape& s, bool relu);
void launchBatchNormInference(const LaunchEnv& env, const float* x, const float* gamma, const float* beta,
                              const float* runningMean, const float* runningVar, float* out, const BnShape& s, bool relu);
void launchBatchNormBackward(const LaunchEnv& env, const float* x, const float* dy, const float* gamma,
                             const float* saveMean, const float* saveInvStd, float* dx, float* dgamma, float* dbeta,
                             const BnShape& s, bool accumulate);

// ---- pool.cu ----
struct PoolShape {
  int n, c, h, w, kh, kw, stride, hOut, wOut;
};
void launchMaxPool2d(const LaunchEnv& env, const float* x, float* out, int32_t* argmax, const PoolShape& s);
void launchMaxPool2dBackward(const LaunchEnv& env, const float* dy, const int32_t* argmax, float* dx, const PoolShape& s);
void launchAvgPool2d(const LaunchEnv& env, const float* x, float* out, const PoolShape& s);
void launchAvgPool2dBackward(const LaunchEnv& env, const float* dy, float* dx, const PoolShape& s);

// ---- softmax.cu ----
void launchSoftmax(const LaunchEnv& env, const float* x, float* out, int rows, int cols, bool logSoftmax);
void launchSoftmaxCrossEntropy(const LaunchEnv& env, const float* logits, const int32_t* labels, float* probs, float* loss,
                               int rows, int cols, float labelSmoothing);
void launchSoftmaxCrossEntropyBackward(const LaunchEnv& env, const float* probs, const int32_t* labels, const float* dloss,
                                       float* dlogits, int rows, int cols, float labelSmoothing, bool accumulate);

// ---- optim.cu (lr and t read through env.hyper so captured graphs stay valid) ----
struct SgdArgs {
  float lr, momentum, dampening, weightDecay;
  bool nesterov;
};
struct AdamArgs {
  float lr, beta1, beta2, eps, weightDecay;
  bool decoupled;
  uint32_t step;
};
void launchSgdStep(const LaunchEnv& env, float* param, const float* grad, float* velocity, long long n, const SgdArgs& a);
void launchAdamStep(const LaunchEnv& env, float* param, const float* grad, float* m, float* v, long long n, const AdamArgs& a);

}  // namespace inkling
