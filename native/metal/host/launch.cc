// See launch.h. Grid choices mirror native/cuda's launchers, with one difference: Metal exposes no
// GPU core count, so the partitions (split-K, reduction chunks) aim at a fixed kTargetGroups
// threadgroups. That also makes every partition, and so every result bit, the same on every Mac.
#include "launch.h"

#include <algorithm>
#include <cmath>

namespace inkling::metal {
namespace {

constexpr uint32_t kGroup = 256;        // 1-D kernels (common.h kGroup)
constexpr uint32_t kGemmThreads = 128;  // gemm_tile.h
constexpr int BM = 32, BN = 32, BK = 16;
constexpr long long kTargetGroups = 64;

uint32_t groupsFor(uint64_t n, uint32_t perGroup = kGroup) {
  const uint64_t g = (n + perGroup - 1) / perGroup;
  if (g > 0xffffffffull) throw MetalError("tensor too large for one dispatch; split the batch");
  return uint32_t(std::max<uint64_t>(g, 1));
}

uint32_t u32Count(uint64_t n, const char* what) {
  if (n > 0xffffffffull) throw MetalError(std::string(what) + ": tensors of 2^32 elements or more are not supported; split the batch");
  return uint32_t(n);
}

template <class Args>
void dispatch1d(Encoder& e, const char* kernel, std::initializer_list<Handle> buffers, const Args& args, uint64_t threads) {
  e.dispatch(kernel, buffers.begin(), int(buffers.size()), &args, sizeof(Args), Grid{groupsFor(threads), 1, 1}, kGroup);
}

int chunksFor(int channels, long long perChannel) {
  long long want = (kTargetGroups + channels - 1) / channels;
  long long byWork = (perChannel + 2047) / 2048;
  long long c = std::min({want, byWork, 64LL});
  return int(std::max(c, 1LL));
}

int chooseSplits(int M, int N, int K) {
  const long long tiles = (long long)((M + BM - 1) / BM) * ((N + BN - 1) / BN);
  if (tiles >= kTargetGroups || K < 16 * BK) return 1;
  long long s = (2 * kTargetGroups + tiles - 1) / tiles;
  s = std::min<long long>(s, K / (8 * BK));
  s = std::min<long long>(s, (64LL << 20) / (4LL * M * N));
  s = std::min<long long>(s, 64);
  return int(std::max(s, 1LL));
}

/** Runs `kernel` (gemm_f32 or a conv entry) over g's M×N×K with split-K when it pays; the first
 *  two buffers are the loaders' sources. bias / out / layout fields of g are set by the caller. */
void runGemm(Encoder& e, const char* kernel, Handle first, Handle second, Handle out, Handle bias, GemmArgs g) {
  if (g.M <= 0 || g.N <= 0) return;
  int splits = chooseSplits(g.M, g.N, g.K);
  int kPer = std::max(g.K, 1);
  if (splits > 1) {
    kPer = ((g.K + splits - 1) / splits + BK - 1) / BK * BK;
    splits = (g.K + kPer - 1) / kPer;
  }
  g.kPerSplit = kPer;
  g.splits = uint32_t(splits);
  g.hasBias = bias != 0;
  const Handle biasOrOut = bias ? bias : out;
  const Handle partial = splits > 1 ? e.scratch(sizeof(float) * size_t(splits) * size_t(g.M) * size_t(g.N)) : out;
  const Handle buffers[] = {first, second, out, biasOrOut, partial};
  const Grid grid{uint32_t((g.M + BM - 1) / BM), uint32_t((g.N + BN - 1) / BN), uint32_t(splits)};
  e.dispatch(kernel, buffers, 5, &g, sizeof g, grid, kGemmThreads);
  if (splits > 1) {
    const Handle reduce[] = {out, biasOrOut, partial};
    e.dispatch("gemm_split_reduce", reduce, 3, &g, sizeof g, Grid{groupsFor(uint64_t(g.M) * g.N), 1, 1}, kGroup);
  }
}

GemmArgs convArgs(const ConvShape& s) {
  GemmArgs g{};
  g.n = s.n; g.cIn = s.cIn; g.h = s.h; g.w = s.w; g.cOut = s.cOut; g.kh = s.kh; g.kw = s.kw;
  g.stride = s.stride; g.pad = s.pad; g.hOut = s.hOut; g.wOut = s.wOut;
  return g;
}

}  // namespace

const char* const kKernelNames[] = {
    "fill32", "unary_f32", "binary_f32", "scale_f32", "axpy_f32", "relu_backward_f32", "dropout_f32",
    "channel_sum_partial", "channel_sum_final", "argmax_rows", "count_equal", "gemm_f32", "gemm_split_reduce",
    "gemm_epilogue", "conv2d_forward", "conv2d_backward_input", "conv2d_backward_weight", "bn_stats_partial",
    "bn_stats_final", "bn_apply", "bn_grad_partial", "bn_grad_final", "bn_input_grad", "max_pool_forward",
    "max_pool_backward", "avg_pool_forward", "avg_pool_backward", "softmax_rows", "cross_entropy_rows", "mean_rows",
    "cross_entropy_backward", "sgd_step", "adam_step",
};
const int kKernelCount = int(sizeof kKernelNames / sizeof kKernelNames[0]);

// ---- elementwise.metal ----
void launchFill32(Encoder& e, Handle out, uint32_t bits, uint64_t n) {
  if (n == 0) return;
  EltArgs a{u32Count(n, "fill"), 0, 0.f, 0.f, bits, 0};
  dispatch1d(e, "fill32", {out}, a, n);
}
void launchUnary(Encoder& e, int op, Handle x, Handle out, uint64_t n) {
  if (n == 0) return;
  EltArgs a{u32Count(n, "unary"), uint32_t(op), 0.f, 0.f, 0, 0};
  dispatch1d(e, "unary_f32", {x, out}, a, n);
}
void launchBinary(Encoder& e, int op, Handle x, Handle y, Handle out, uint64_t n) {
  if (n == 0) return;
  EltArgs a{u32Count(n, "binary"), uint32_t(op), 0.f, 0.f, 0, 0};
  dispatch1d(e, "binary_f32", {x, y, out}, a, n);
}
void launchScale(Encoder& e, Handle x, float alpha, float beta, Handle out, uint64_t n) {
  if (n == 0) return;
  EltArgs a{u32Count(n, "scale"), 0, alpha, beta, 0, 0};
  dispatch1d(e, "scale_f32", {x, out}, a, n);
}
void launchAxpy(Encoder& e, float alpha, Handle x, Handle y, uint64_t n) {
  if (n == 0) return;
  EltArgs a{u32Count(n, "axpy"), 0, alpha, 0.f, 0, 0};
  dispatch1d(e, "axpy_f32", {x, y}, a, n);
}
void launchReluBackward(Encoder& e, Handle x, Handle dy, Handle dx, uint64_t n, bool accumulate) {
  if (n == 0) return;
  EltArgs a{u32Count(n, "reluBackward"), 0, 0.f, 0.f, 0, accumulate};
  dispatch1d(e, "relu_backward_f32", {x, dy, dx}, a, n);
}

// ---- dropout.metal ----
void launchDropout(Encoder& e, Handle x, Handle out, uint64_t n, uint32_t seed, uint32_t step, uint32_t keepThreshold,
                   float keepScale, uint64_t spatial, bool accumulate) {
  if (n == 0) return;
  DropoutArgs a{u32Count(n, "dropout"), seed, step, keepThreshold, keepScale, u32Count(spatial, "dropout"), accumulate};
  if (a.spatial == 0) throw MetalError("dropout: spatial must be at least 1");
  dispatch1d(e, "dropout_f32", {x, out}, a, n);
}

// ---- reduce.metal ----
void launchChannelSum(Encoder& e, Handle x, Handle out, int outer, int channels, int inner, bool accumulate) {
  if (channels <= 0) return;
  const int chunks = chunksFor(channels, (long long)outer * inner);
  ChannelSumArgs a{uint32_t(outer), uint32_t(channels), uint32_t(inner), uint32_t(chunks), accumulate};
  const Handle partial = chunks > 1 ? e.scratch(sizeof(float) * size_t(channels) * chunks) : out;
  const Handle first[] = {x, partial};
  e.dispatch("channel_sum_partial", first, 2, &a, sizeof a, Grid{uint32_t(channels), uint32_t(chunks), 1}, kGroup);
  if (chunks > 1) dispatch1d(e, "channel_sum_final", {partial, out}, a, uint64_t(channels));
}
void launchArgmax(Encoder& e, Handle x, Handle out, int rows, int cols) {
  if (rows <= 0) return;
  RowsArgs a{uint32_t(rows), uint32_t(cols), 0, 0.f, 0};
  dispatch1d(e, "argmax_rows", {x, out}, a, uint64_t(rows) * 32);  // one SIMD group per row
}
void launchCountEqual(Encoder& e, Handle x, Handle y, Handle out, uint64_t n, bool accumulate) {
  CountArgs a{u32Count(n, "countEqual"), accumulate};
  const Handle buffers[] = {x, y, out};
  e.dispatch("count_equal", buffers, 3, &a, sizeof a, Grid{1, 1, 1}, kGroup);
}

// ---- gemm.metal / conv.metal ----
void launchMatmul(Encoder& e, GemmMode mode, Handle a, Handle b, Handle bias, Handle out, int m, int n, int k,
                  bool transA, bool transB, bool accumulate, bool relu) {
  if (m <= 0 || n <= 0) return;
  GemmArgs g{};
  g.M = m; g.N = n; g.K = k;
  g.relu = relu; g.accumulate = accumulate; g.layout = kRowMajor; g.ldc = uint32_t(n);
  g.transA = transA; g.transB = transB;
  if (mode == GemmMode::Mps && k > 0) {
    const bool plain = !accumulate && !relu && !bias;
    const Handle product = plain ? out : e.scratch(sizeof(float) * size_t(m) * n);
    if (e.mpsMatmul(a, b, product, m, n, k, transA, transB)) {
      if (!plain) {
        g.hasBias = bias != 0;
        const Handle buffers[] = {out, bias ? bias : out, product};
        e.dispatch("gemm_epilogue", buffers, 3, &g, sizeof g, Grid{groupsFor(uint64_t(m) * n), 1, 1}, kGroup);
      }
      return;
    }
  }
  runGemm(e, "gemm_f32", a, b, out, bias, g);
}

void launchConv2d(Encoder& e, Handle x, Handle w, Handle bias, Handle out, const ConvShape& s, bool relu) {
  GemmArgs g = convArgs(s);
  g.M = s.n * s.hOut * s.wOut; g.N = s.cOut; g.K = s.cIn * s.kh * s.kw;
  g.relu = relu; g.layout = kNchwRows; g.channels = uint32_t(s.cOut); g.hw = uint32_t(s.hOut * s.wOut);
  runGemm(e, "conv2d_forward", x, w, out, bias, g);
}

void launchConv2dBackwardInput(Encoder& e, Handle dy, Handle w, Handle dx, const ConvShape& s, bool accumulate) {
  GemmArgs g = convArgs(s);
  g.M = s.n * s.h * s.w; g.N = s.cIn; g.K = s.cOut * s.kh * s.kw;
  g.accumulate = accumulate; g.layout = kNchwRows; g.channels = uint32_t(s.cIn); g.hw = uint32_t(s.h * s.w);
  runGemm(e, "conv2d_backward_input", dy, w, dx, 0, g);
}

void launchConv2dBackwardWeight(Encoder& e, Handle x, Handle dy, Handle dw, Handle db, const ConvShape& s,
                                bool accumulate) {
  GemmArgs g = convArgs(s);
  g.M = s.cIn * s.kh * s.kw; g.N = s.cOut; g.K = s.n * s.hOut * s.wOut;
  g.accumulate = accumulate; g.layout = kColMajor; g.ldc = uint32_t(g.M);
  runGemm(e, "conv2d_backward_weight", x, dy, dw, 0, g);
  if (db) launchChannelSum(e, dy, db, s.n, s.cOut, s.hOut * s.wOut, accumulate);
}

// ---- batchnorm.metal ----
namespace {
BnArgs bnArgs(const BnShape& s, int chunks) {
  const uint64_t total = uint64_t(s.n) * s.c * s.spatial;
  u32Count(total, "batchnorm");
  return BnArgs{uint32_t(s.n), uint32_t(s.c), uint32_t(s.spatial), uint32_t(chunks), s.eps, s.momentum, 0, 0, 0};
}
}  // namespace

void launchBatchNormTrain(Encoder& e, Handle x, Handle gamma, Handle beta, Handle runningMean, Handle runningVar,
                          Handle out, Handle saveMean, Handle saveInvStd, const BnShape& s, bool relu) {
  const int chunks = chunksFor(s.c, (long long)s.n * s.spatial);
  BnArgs a = bnArgs(s, chunks);
  a.relu = relu;
  const Handle partial = e.scratch(sizeof(float) * 3 * size_t(s.c) * chunks);
  const Handle stats[] = {x, partial};
  e.dispatch("bn_stats_partial", stats, 2, &a, sizeof a, Grid{uint32_t(s.c), uint32_t(chunks), 1}, kGroup);
  dispatch1d(e, "bn_stats_final", {partial, runningMean, runningVar, saveMean, saveInvStd}, a, uint64_t(s.c));
  dispatch1d(e, "bn_apply", {x, gamma, beta, saveMean, saveInvStd, out}, a, uint64_t(s.n) * s.c * s.spatial);
}

void launchBatchNormInference(Encoder& e, Handle x, Handle gamma, Handle beta, Handle runningMean, Handle runningVar,
                              Handle out, const BnShape& s, bool relu) {
  BnArgs a = bnArgs(s, 1);
  a.relu = relu;
  a.inference = 1;
  dispatch1d(e, "bn_apply", {x, gamma, beta, runningMean, runningVar, out}, a, uint64_t(s.n) * s.c * s.spatial);
}

void launchBatchNormBackward(Encoder& e, Handle x, Handle dy, Handle gamma, Handle saveMean, Handle saveInvStd,
                             Handle dx, Handle dgamma, Handle dbeta, const BnShape& s, bool accumulate) {
  const int chunks = chunksFor(s.c, (long long)s.n * s.spatial);
  BnArgs a = bnArgs(s, chunks);
  a.accumulate = accumulate;
  const Handle partial = e.scratch(sizeof(float) * 2 * size_t(s.c) * chunks);
  const Handle sums = e.scratch(sizeof(float) * 2 * size_t(s.c));
  const Handle grad[] = {x, dy, saveMean, saveInvStd, partial};
  e.dispatch("bn_grad_partial", grad, 5, &a, sizeof a, Grid{uint32_t(s.c), uint32_t(chunks), 1}, kGroup);
  dispatch1d(e, "bn_grad_final", {partial, sums, dgamma, dbeta}, a, uint64_t(s.c));
  dispatch1d(e, "bn_input_grad", {x, dy, gamma, saveMean, saveInvStd, sums, dx}, a, uint64_t(s.n) * s.c * s.spatial);
}

// ---- pool.metal ----
namespace {
PoolArgs poolArgs(const PoolShape& s, uint64_t total) {
  return PoolArgs{uint32_t(s.n), uint32_t(s.c), uint32_t(s.h), uint32_t(s.w), uint32_t(s.kh), uint32_t(s.kw),
                  uint32_t(s.stride), uint32_t(s.hOut), uint32_t(s.wOut), u32Count(total, "pooling")};
}
uint64_t outCount(const PoolShape& s) { return uint64_t(s.n) * s.c * s.hOut * s.wOut; }
uint64_t inCount(const PoolShape& s) { return uint64_t(s.n) * s.c * s.h * s.w; }
}  // namespace

void launchMaxPool2d(Encoder& e, Handle x, Handle out, Handle argmax, const PoolShape& s) {
  if (outCount(s) == 0) return;
  dispatch1d(e, "max_pool_forward", {x, out, argmax}, poolArgs(s, outCount(s)), outCount(s));
}
void launchMaxPool2dBackward(Encoder& e, Handle dy, Handle argmax, Handle dx, const PoolShape& s) {
  if (inCount(s) == 0) return;
  dispatch1d(e, "max_pool_backward", {dy, argmax, dx}, poolArgs(s, inCount(s)), inCount(s));
}
void launchAvgPool2d(Encoder& e, Handle x, Handle out, const PoolShape& s) {
  if (outCount(s) == 0) return;
  dispatch1d(e, "avg_pool_forward", {x, out}, poolArgs(s, outCount(s)), outCount(s));
}
void launchAvgPool2dBackward(Encoder& e, Handle dy, Handle dx, const PoolShape& s) {
  if (inCount(s) == 0) return;
  dispatch1d(e, "avg_pool_backward", {dy, dx}, poolArgs(s, inCount(s)), inCount(s));
}

// ---- softmax.metal ----
void launchSoftmax(Encoder& e, Handle x, Handle out, int rows, int cols, bool logarithm) {
  if (rows <= 0) return;
  RowsArgs a{uint32_t(rows), uint32_t(cols), logarithm, 0.f, 0};
  dispatch1d(e, "softmax_rows", {x, out}, a, uint64_t(rows) * 32);
}
void launchSoftmaxCrossEntropy(Encoder& e, Handle logits, Handle labels, Handle probs, Handle loss, int rows, int cols,
                               float smoothing) {
  if (rows <= 0) return;
  RowsArgs a{uint32_t(rows), uint32_t(cols), 0, smoothing, 0};
  const Handle rowLoss = e.scratch(sizeof(float) * size_t(rows));
  dispatch1d(e, "cross_entropy_rows", {logits, labels, probs, rowLoss}, a, uint64_t(rows) * 32);
  const Handle mean[] = {rowLoss, loss};
  e.dispatch("mean_rows", mean, 2, &a, sizeof a, Grid{1, 1, 1}, kGroup);
}
void launchSoftmaxCrossEntropyBackward(Encoder& e, Handle probs, Handle labels, Handle dloss, Handle dlogits, int rows,
                                       int cols, float smoothing, bool accumulate) {
  const uint64_t total = uint64_t(rows) * cols;
  if (total == 0) return;
  RowsArgs a{uint32_t(rows), uint32_t(cols), 0, smoothing, accumulate};
  u32Count(total, "softmaxCrossEntropyBackward");
  dispatch1d(e, "cross_entropy_backward", {probs, labels, dloss, dlogits}, a, total);
}

// ---- optim.metal ----
void launchSgdStep(Encoder& e, Handle param, Handle grad, Handle velocity, uint64_t n, float lr, float momentum,
                   float dampening, float weightDecay, bool nesterov) {
  if (n == 0) return;
  SgdArgs a{u32Count(n, "sgdStep"), lr, momentum, dampening, weightDecay, nesterov};
  dispatch1d(e, "sgd_step", {param, grad, velocity ? velocity : param}, a, n);
}
void launchAdamStep(Encoder& e, Handle param, Handle grad, Handle m, Handle v, uint64_t n, float lr, double beta1,
                    double beta2, float eps, float weightDecay, bool decoupled, double step) {
  if (n == 0) return;
  AdamArgs a{u32Count(n, "adamStep"), lr, float(beta1), float(beta2), eps, weightDecay, decoupled,
             float(1.0 - std::pow(beta1, step)), float(1.0 - std::pow(beta2, step))};
  dispatch1d(e, "adam_step", {param, grad, m, v}, a, n);
}

}  // namespace inkling::metal
