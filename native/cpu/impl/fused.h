// Batch norm (training) + activation + max pool as one kernel, forward and backward: the contract's
// batchNormMaxPoolTrain / batchNormMaxPoolBackward (src/nn/backend.ts). The normalised activation
// y = act(x·a + b) is never stored:
//   forward   statistics of x (one read: every plane's sums, folded per channel in image order),
//             then each plane normalised and pooled on the fly (a second read); writes only the
//             pooled output and its argmax. Both passes walk the planes in memory order.
//   backward  the gradient reaching y is dy scattered to the argmax positions, masked by the
//             activation (y there equals the pooled output, so the mask is out > 0). So Σdy and
//             Σdy·x̂ are sums over the POOLED positions (x gathered at argmax), and
//             dx = −shift − slope·(x − mean) everywhere, + k·dy at each argmax.
// Against the unfused chain (batchNormTrain, maxPool2d, maxPool2dBackward, reluBackward,
// batchNormBackward) this moves about a third of the bytes at the seed CNN's shapes.
#pragma once

namespace INKLING_NS {

static void batchNormMaxPoolTrain(Context& ctx, const float* x, const float* gamma, const float* beta,
                                  float* runningMean, float* runningVar, float* out, int32_t* argmax,
                                  float* saveMean, float* saveInvStd, const PoolShape& s, float eps, float momentum,
                                  bool relu) {
  const i64 spatial = i64(s.h) * s.w, outPlane = i64(s.hOut()) * s.wOut();
  // planes in memory order (a channel's planes are a whole image apart: walking them channel by
  // channel started a cache miss every 784 bytes at conv2's shapes)
  float* sums = ctx.partials.floats(size_t(2) * s.n * s.c);
  perPlane(ctx, s, [&](int pl) { planeSums(x + pl * spatial, spatial, sums[2 * pl], sums[2 * pl + 1]); });
  std::vector<PoolInput> in(size_t(s.c));
  for (int ch = 0; ch < s.c; ++ch) {
    in[ch].affine = true;
    in[ch].relu = relu;
    const auto sumsOf = [&](int img, float& sx, float& sxx) {
      sx = sums[2 * (i64(img) * s.c + ch)];
      sxx = sums[2 * (i64(img) * s.c + ch) + 1];
    };
    statisticsOfPlanes(sumsOf, ch, s.n, spatial, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, eps,
                       momentum, in[ch].a, in[ch].b);
  }
  const float* end = x + i64(s.n) * s.c * spatial;
  perPlane(ctx, s, [&](int pl) {
    maxPoolPlane(x + pl * spatial, out + pl * outPlane, argmax + pl * outPlane, s, in[pl % s.c], end);
  });
}

/** Σg and Σg·(x[argmax] − mean) over one pooled plane, g = dy masked by out > 0 under ReLU. Also
 *  the bounds check: returns false when an argmax lies outside the plane (x is read at a clamped
 *  index meanwhile, and the caller throws before anything is written through it). Four named
 *  partials, not an array indexed by q & 3: GCC kept that array in memory (a store-to-load chain
 *  per element). */
static inline bool pooledGradSums(const float* __restrict dy, const float* __restrict out,
                                  const int32_t* __restrict am, const float* __restrict x, i64 len, uint32_t plane,
                                  float mean, bool relu, float& sumG, float& sumGX) {
  float g0 = 0.f, g1 = 0.f, g2 = 0.f, g3 = 0.f, x0 = 0.f, x1 = 0.f, x2 = 0.f, x3 = 0.f;
  uint32_t worst = 0;  // a negative index wraps above the plane
  const uint32_t last = plane - 1;
  const auto term = [&](i64 q, float& sg, float& sx) {
    const uint32_t at = uint32_t(am[q]);
    worst = std::max(worst, at);
    const float g = relu && !(out[q] > 0.f) ? 0.f : dy[q];
    sg += g;
    sx += g * (x[std::min(at, last)] - mean);
  };
  i64 q = 0;
  for (; q + 4 <= len; q += 4) {
    term(q, g0, x0);
    term(q + 1, g1, x1);
    term(q + 2, g2, x2);
    term(q + 3, g3, x3);
  }
  for (; q < len; ++q) {
    float* gs[4] = {&g0, &g1, &g2, &g3};
    float* xs[4] = {&x0, &x1, &x2, &x3};
    term(q, *gs[q & 3], *xs[q & 3]);
  }
  sumG = (g0 + g1) + (g2 + g3);
  sumGX = (x0 + x1) + (x2 + x3);
  return worst < plane;
}

/** Notes the lowest entry of a pooled plane's argmax (`base` its first index) that lies outside
 *  its plane of `plane` elements: the sums passes call it once they have seen one. */
static inline void noteArgmaxOutside(const int32_t* am, i64 len, uint32_t plane, i64 base, std::atomic<i64>& badAt) {
  for (i64 q = 0; q < len; ++q)
    if (uint32_t(am[q]) >= uint64_t(plane)) noteFirst(badAt, base + q);
}

/** Throws naming the lowest noted entry, if any (after the workers are done). */
static inline void throwIfArgmaxOutside(const char* kernel, const std::atomic<i64>& badAt, const int32_t* argmax,
                                        i64 plane) {
  const i64 bad = badAt.load();
  if (bad >= 0)
    throw std::runtime_error(std::string(kernel) + ": argmax[" + std::to_string(bad) + "] = " +
                             std::to_string(argmax[bad]) + " is outside its plane of " + std::to_string(plane) +
                             " elements (argmax must come from the forward pass)");
}

/** dy, or 0 where ReLU's mask (out > 0) is off, without a branch: the mask is random data, and
 *  GCC compiles `cond ? g : 0.f` to a jump that mispredicts about half the time (a fifth of the
 *  fused backward's time). The bits of g are kept or cleared. */
static inline float reluMasked(float g, float out, bool relu) {
  uint32_t bits;
  std::memcpy(&bits, &g, sizeof bits);
  bits &= -uint32_t(!relu | (out > 0.f));
  float r;
  std::memcpy(&r, &bits, sizeof r);
  return r;
}

/** A channel's backward once its pooled sums are known: dγ, dβ written, and dx's coefficients. */
struct PooledBackward {
  float mean, kf, shift, slope;
  double k, shiftD, slopeD;
  /** Few values per channel: dx evaluated in double (cancellation), as batchNormBackward. */
  bool precise;
};

static inline PooledBackward pooledBackwardFrom(double sumDy, double sumDyXhat, int ch, i64 count, const float* gamma,
                                                const float* saveMean, float invStd, float* dgamma, float* dbeta,
                                                bool accumulate) {
  dgamma[ch] = float(accumulate ? dgamma[ch] + sumDyXhat : sumDyXhat);
  dbeta[ch] = float(accumulate ? dbeta[ch] + sumDy : sumDy);
  PooledBackward pb;
  pb.mean = saveMean[ch];
  pb.k = double(gamma[ch]) * invStd;
  pb.shiftD = pb.k * sumDy / double(count);
  pb.slopeD = pb.k * sumDyXhat / double(count) * invStd;
  pb.kf = float(pb.k);
  pb.shift = float(pb.shiftD);
  pb.slope = float(pb.slopeD);
  pb.precise = count <= 4096;
  return pb;
}

/** One plane's dx = −shift − slope·(x − mean), + k·dy at each argmax (dy masked by out > 0 under
 *  ReLU). The argmax entries must lie inside the plane (checked by the sums pass). */
static inline void pooledPlaneDx(const PooledBackward& pb, const float* xp, float* dp, const float* g, const float* o,
                                 const int32_t* am, i64 spatial, i64 outPlane, bool relu) {
  const float mean = pb.mean;
  if (pb.precise) {
    for (i64 i = 0; i < spatial; ++i) dp[i] = float(-pb.shiftD - pb.slopeD * (double(xp[i]) - mean));
    for (i64 q = 0; q < outPlane; ++q)
      if (!relu || o[q] > 0.f) dp[am[q]] = float(double(dp[am[q]]) + pb.k * g[q]);
  } else {
    const float shift = pb.shift, slope = pb.slope, kf = pb.kf;
    for (i64 i = 0; i < spatial; ++i) dp[i] = -shift - slope * (xp[i] - mean);
    for (i64 q = 0; q < outPlane; ++q) dp[am[q]] += kf * reluMasked(g[q], o[q], relu);
  }
}

static void batchNormMaxPoolBackward(Context& ctx, const float* x, const float* out, const int32_t* argmax,
                                     const float* dy, const float* gamma, const float* saveMean,
                                     const float* saveInvStd, float* dx, float* dgamma, float* dbeta,
                                     const PoolShape& s, bool relu, bool accumulate) {
  const i64 spatial = i64(s.h) * s.w, outPlane = i64(s.hOut()) * s.wOut(), count = i64(s.n) * spatial;
  // Planes in memory order, as the forward. An argmax outside its plane would scatter out of
  // bounds: the sums pass notes it, and the call throws (after the workers are done, before
  // anything is written) naming the lowest bad entry.
  std::atomic<i64> badAt{-1};
  float* sums = ctx.partials.floats(size_t(2) * s.n * s.c);
  perPlane(ctx, s, [&](int pl) {
    const int32_t* am = argmax + pl * outPlane;
    if (!pooledGradSums(dy + pl * outPlane, out + pl * outPlane, am, x + pl * spatial, outPlane, uint32_t(spatial),
                        saveMean[pl % s.c], relu, sums[2 * pl], sums[2 * pl + 1]))
      noteArgmaxOutside(am, outPlane, uint32_t(spatial), pl * outPlane, badAt);
  });
  throwIfArgmaxOutside("batchNormMaxPoolBackward", badAt, argmax, spatial);
  std::vector<PooledBackward> pbs(size_t(s.c));
  for (int ch = 0; ch < s.c; ++ch) {
    // each channel's planes folded in image order
    const float invStd = saveInvStd[ch];
    double sumDy = 0, sumDyXhat = 0;
    for (int img = 0; img < s.n; ++img) {
      const float* at = sums + 2 * (i64(img) * s.c + ch);
      sumDy += at[0];
      sumDyXhat += double(at[1]) * invStd;
    }
    pbs[ch] = pooledBackwardFrom(sumDy, sumDyXhat, ch, count, gamma, saveMean, invStd, dgamma, dbeta, accumulate);
  }
  perPlane(ctx, s, [&](int pl) {
    pooledPlaneDx(pbs[pl % s.c], x + pl * spatial, dx + pl * spatial, dy + pl * outPlane, out + pl * outPlane,
                  argmax + pl * outPlane, spatial, outPlane, relu);
  });
}

}  // namespace INKLING_NS
