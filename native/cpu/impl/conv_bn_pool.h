// Convolution → batch norm (training) → activation → max pool as one kernel, forward and backward:
// the contract's convBatchNormMaxPoolTrain / convBatchNormMaxPoolBackward (src/nn/backend.ts), for
// the seed CNN's first layer (one input channel, 3x3, stride 1: the direct kernel of
// conv_direct.h). Its convolution output y is the largest tensor of a training step (12.8 MB at
// batch 128, written once and then read three times, its gradient written and read once more),
// and it is cheap to recompute from an input that fits in L1. So y is only ever computed one image
// at a time into a per-thread staging buffer (32 planes of 3 KB, in L2), and what the layer needs
// of y as a whole comes from the input's moments: with x_t the padded input seen through tap t
// (t = ky·3 + kx) at each output position p, S_t = Σ_p x_t and G_st = Σ_p x_s·x_t over the batch,
//   mean(y) = w·S/N + b,   var(y) = wᵀ C w with C_st = G_st/N − S_s·S_t/N²   (N = n·hOut·wOut),
//   Σ_p (y − μ)·x_t = N·(C w)_t + (w·S/N + b − μ)·S_t.
//   forward   the moments (one read of the input), the statistics, then one pass: y per image,
//             normalised and pooled by maxPoolPlane as batchNormMaxPoolTrain does. The moments
//             are kept in the context under x's stamp (CachedMoments) for the backward, which
//             takes them again in its own pass over the images only when x is not the same.
//   backward  one pass over the pooled planes: Σg and Σg·x̂ with x̂ = (out − β)/γ (where the mask
//             lets g through, out = γ·x̂ + β), and Q_t = Σ_q g_q·x_t(argmax_q), each pooled gradient
//             times its argmax's 3x3 input patch; no y at all. Where x̂ cannot be recovered
//             accurately (normalisedFromOut) the pass recomputes y per image instead and
//             takes Σg·(y[argmax] − μ) from it (pooledGradSums). Then per channel, with dy' =
//             −shift − slope·(y − μ) + k·scatter(g) (batchNormMaxPoolBackward's dx),
//             dw_t = Σ_p dy'·x_t = −shift·S_t − slope·Σ_p (y − μ)·x_t + k·Q_t.
// Per-image partial sums are folded in image order: no result depends on the thread count. The
// statistics differ from batchNormTrain's (a two-pass sum over the stored y) by rounding only.
#pragma once

namespace INKLING_NS {

#if INKLING_VEC
static bool convBatchNormMaxPoolApplies(const ConvShape& s) { return directSingleChannelApplies(s); }

/** Floats of one image's moment partials: S (9), then G's 45 pairs s ≤ t. */
constexpr int kMomentSums = 54;

/** One image's moment partials (see the header) from its padded plane, float vector partials. One
 *  compiled copy (noinline) for the forward's and the backward's passes: their sums agree bit for bit. */
__attribute__((noinline)) static void imageMoments(const float* padded, const ConvShape& s, float* out) {
  constexpr int kPairs = kMomentSums - 9;
  const int hOut = s.hOut(), wOut = s.wOut(), Wp = directPaddedStride(s);
  vf sum[9], prod[kPairs];
  for (vf& v : sum) v = vzero();
  for (vf& v : prod) v = vzero();
  for (int oy = 0; oy < hOut; ++oy)
    for (int ox = 0; ox < wOut; ox += VL) {
      const int n = std::min(VL, wOut - ox);
      vf v[9];
      for (int ky = 0; ky < 3; ++ky)
        for (int kx = 0; kx < 3; ++kx) {
          const float* at = padded + (oy + ky) * Wp + ox + kx;
          // lanes past the row are outside the convolution's output (the padded plane's
          // columns there are not all zero)
          v[ky * 3 + kx] = n == VL ? vload(at) : vloadReadable(at, n);
        }
      int pair = 0;
      for (int a = 0; a < 9; ++a) {
        sum[a] = vadd(sum[a], v[a]);
        for (int b = a; b < 9; ++b, ++pair) prod[pair] = vfmadd(v[a], v[b], prod[pair]);
      }
    }
  for (int a = 0; a < 9; ++a) out[a] = vsum(sum[a]);
  for (int p = 0; p < kPairs; ++p) out[9 + p] = vsum(prod[p]);
}

/** The batch's moments, the images' partials (kMomentSums each) folded in image order in double,
 *  turned into what every channel needs: S, m_t = S_t/N and C (see the header). */
struct InputMoments {
  double N, S[9], m[9], C[81];

  InputMoments(const float* partials, const ConvShape& s) : N(double(s.n) * s.hOut() * s.wOut()) {
    double G[81] = {};
    for (double& v : S) v = 0;
    for (int img = 0; img < s.n; ++img) {
      const float* in = partials + size_t(img) * kMomentSums;
      int pair = 0;
      for (int a = 0; a < 9; ++a) {
        S[a] += in[a];
        for (int b = a; b < 9; ++b, ++pair) G[a * 9 + b] += in[9 + pair];
      }
    }
    for (int a = 0; a < 9; ++a) m[a] = S[a] / N;
    for (int a = 0; a < 9; ++a)
      for (int b = 0; b < 9; ++b) {
        const double g = a <= b ? G[a * 9 + b] : G[b * 9 + a];
        C[a * 9 + b] = g / N - m[a] * m[b];
      }
  }

  /** The mean of channel c's y = w ⋆ x + bias. */
  double mean(const float* w, const float* bias, int c) const {
    double mu = bias ? bias[c] : 0.f;
    for (int t = 0; t < 9; ++t) mu += double(w[c * 9 + t]) * m[t];
    return mu;
  }

  /** (C w)_t for channel c's weights: Σ_p (y − mean(y))·x_t / N. */
  double covarianceWith(const float* w, int c, int t) const {
    double v = 0;
    for (int b = 0; b < 9; ++b) v += C[t * 9 + b] * w[c * 9 + b];
    return v;
  }

  /** The biased variance of channel c's y, wᵀ C w. */
  double variance(const float* w, int c) const {
    double v = 0;
    for (int a = 0; a < 9; ++a) v += double(w[c * 9 + a]) * covarianceWith(w, c, a);
    return v;
  }
};

/** The staging buffer of a thread: one image's cOut planes of y. */
struct ConvStage : TakesPlanes {
  Context& ctx;
  const ConvShape& s;
  i64 plane;

  ConvStage(Context& c, const ConvShape& shape, i64 p) : ctx(c), s(shape), plane(p) {}

  /** Floats past the image that a reader may touch: maxPoolPlane reads whole vectors past a row as
   *  it does in a tensor of many planes. */
  static constexpr int kSlack = 64;

  float* image(int, int thread) const { return ctx.perThread[thread].stage.floats(size_t(s.cOut) * plane + kSlack); }
};

/** The forward's pass: each plane normalised (y·a + b, activation) and pooled. */
struct NormalizePoolSink : ConvStage {
  const float* a;
  const float* b;
  bool relu;
  PoolShape pool;  // one plane: n = c = 1
  float* out;
  int32_t* argmax;

  void done(int img, int c0, int c1, int, const float* image) const {
    const i64 pooled = i64(pool.hOut()) * pool.wOut();
    for (int c = c0; c < c1; ++c) {
      PoolInput in;
      in.affine = true;
      in.relu = relu;
      in.a = a[c];
      in.b = b[c];
      const float* y = image + c * plane;
      const i64 pl = i64(img) * s.cOut + c;
      maxPoolPlane(y, out + pl * pooled, argmax + pl * pooled, pool, in, image + s.cOut * plane + kSlack);
    }
  }
};

static bool convBatchNormMaxPoolTrain(Context& ctx, const float* x, const float* w, const float* bias,
                                      const float* gamma, const float* beta, float* runningMean, float* runningVar,
                                      float* out, int32_t* argmax, float* saveMean, float* saveInvStd,
                                      const ConvShape& s, int poolKh, int poolKw, int poolStride, float eps,
                                      float momentum, bool relu, double xStamp) {
  if (!convBatchNormMaxPoolApplies(s)) return false;
  const i64 plane = i64(s.hOut()) * s.wOut();
  const int C = s.cOut;
  // With x's stamp known the partials are kept for the backward (ctx.moments), valid once written.
  CachedMoments& kept = ctx.moments;
  kept.x = nullptr;
  float* partials = (xStamp > 0 ? kept.partials : ctx.temp).floats(size_t(s.n) * kMomentSums);
  ctx.pool.run(s.n, [&](int img, int thread) {
    float* padded = ctx.perThread[thread].columns.floats(directPaddedSize(s));
    padPlane(x + i64(img) * s.h * s.w, s, padded);
    imageMoments(padded, s, partials + size_t(img) * kMomentSums);
  });
  if (xStamp > 0) kept.hold(x, xStamp, s.n, s.h, s.w, s.pad);
  const InputMoments moments(partials, s);
  float* a = ctx.partials.floats(size_t(C) * 2);
  float* b = a + C;
  for (int c = 0; c < C; ++c)
    statisticsFromMoments(moments.mean(w, bias, c), moments.variance(w, c), c, i64(s.n) * plane, gamma, beta,
                          runningMean, runningVar, saveMean, saveInvStd, eps, momentum, a[c], b[c]);
  const PoolShape pool{1, 1, s.hOut(), s.wOut(), poolKh, poolKw, poolStride};
  directSingleChannelForwardInto(ctx, x, w, bias, s, false,
                                 NormalizePoolSink{{ctx, s, plane}, a, b, relu, pool, out, argmax});
  return true;
}

/** Σg and Σg·x̂ over one pooled plane with the normalised value taken from out: where g is not
 *  masked off, out = γ·x̂ + β, so x̂ = (out − β)/γ. Also the bounds check of pooledGradSums. */
static inline bool pooledGradSumsFromOut(const float* __restrict dy, const float* __restrict out,
                                         const int32_t* __restrict am, i64 len, uint32_t plane, float beta,
                                         float invGamma, bool relu, float& sumG, float& sumGXhat) {
  uint32_t worst = 0;  // a negative index wraps above the plane
  float g0 = 0.f, x0 = 0.f;
  i64 q = 0;
#if INKLING_AVX2 && !INKLING_AVX512
  // 8 at a time: out > 0 as a lane mask, g kept or cleared by it (no branch), the unsigned max of
  // the argmax for the bounds check
  const __m256 b = _mm256_set1_ps(beta), ig = _mm256_set1_ps(invGamma), zero = _mm256_setzero_ps();
  const __m256 all = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
  __m256 sg = zero, sx = zero;
  __m256i most = _mm256_setzero_si256();
  for (; q + 8 <= len; q += 8) {
    const __m256 o = _mm256_loadu_ps(out + q);
    const __m256 keep = relu ? _mm256_cmp_ps(o, zero, _CMP_GT_OQ) : all;
    const __m256 g = _mm256_and_ps(keep, _mm256_loadu_ps(dy + q));
    sg = _mm256_add_ps(sg, g);
    sx = _mm256_fmadd_ps(g, _mm256_mul_ps(_mm256_sub_ps(o, b), ig), sx);
    most = _mm256_max_epu32(most, _mm256_loadu_si256(reinterpret_cast<const __m256i*>(am + q)));
  }
  alignas(32) uint32_t lanes[8];
  _mm256_store_si256(reinterpret_cast<__m256i*>(lanes), most);
  for (uint32_t v : lanes) worst = std::max(worst, v);
  g0 = vsum(sg);
  x0 = vsum(sx);
#endif
  for (; q < len; ++q) {
    worst = std::max(worst, uint32_t(am[q]));
    const float g = reluMasked(dy[q], out[q], relu);
    g0 += g;
    x0 += g * ((out[q] - beta) * invGamma);
  }
  sumG = g0;
  sumGXhat = x0;
  return worst < plane;
}

/** Q_t = Σ_q g_q·x_t(argmax_q) of one plane (see the header), sparse: each pooled gradient times
 *  its argmax's 3x3 input patch, read as three 4-float rows (the fourth lane is a neighbour that no
 *  result uses; the padded plane's stride and slack keep it readable). A quarter of the plane's
 *  positions hold a gradient, so this does a quarter of a dense pass's multiplies and no scatter
 *  (the dense pass, a zeroed plane scattered and dotted nine times, was ~6% of a training step).
 *  Four pooled positions per step into their own accumulators: one chain per row would wait on
 *  the FMA latency. */
static inline void argmaxPatchSums(const float* g, const float* o, const int32_t* am, i64 pooled, bool relu,
                                   const float* padded, const ConvShape& s, float* Q) {
  const uint32_t wOut = uint32_t(s.wOut()), Wp = uint32_t(directPaddedStride(s));
  const uint32_t plane = uint32_t(s.hOut()) * wOut;
  // am / wOut as a multiply by ⌊2³²/wOut⌋ + 1: exact while am·wOut < 2³² (am < plane, checked by the
  // sums pass before this runs); larger planes divide
  const uint64_t inverse = (uint64_t(1) << 32) / wOut + 1;
  const bool exact = uint64_t(plane) * wOut < (uint64_t(1) << 32);
  const auto patch = [&](i64 q) {
    const uint32_t a = uint32_t(am[q]);
    const uint32_t row = exact ? uint32_t((a * inverse) >> 32) : a / wOut;
    return padded + a + row * (Wp - wOut);
  };
  constexpr int kWays = 4;
  __m128 acc[kWays][3];
  for (auto& way : acc)
    for (__m128& v : way) v = _mm_setzero_ps();
  i64 q = 0;
  for (; q + kWays <= pooled; q += kWays)
    for (int k = 0; k < kWays; ++k) {
      const __m128 gv = _mm_set1_ps(reluMasked(g[q + k], o[q + k], relu));
      const float* p = patch(q + k);
      for (int ky = 0; ky < 3; ++ky) acc[k][ky] = _mm_fmadd_ps(gv, _mm_loadu_ps(p + ky * Wp), acc[k][ky]);
    }
  for (; q < pooled; ++q) {
    const __m128 gv = _mm_set1_ps(reluMasked(g[q], o[q], relu));
    const float* p = patch(q);
    for (int ky = 0; ky < 3; ++ky) acc[0][ky] = _mm_fmadd_ps(gv, _mm_loadu_ps(p + ky * Wp), acc[0][ky]);
  }
  for (int ky = 0; ky < 3; ++ky) {
    alignas(16) float lanes[4];
    _mm_store_ps(lanes, _mm_add_ps(_mm_add_ps(acc[0][ky], acc[1][ky]), _mm_add_ps(acc[2][ky], acc[3][ky])));
    for (int kx = 0; kx < 3; ++kx) Q[ky * 3 + kx] = lanes[kx];
  }
}

/** Whether x̂ = (out − β)/γ is accurate for every channel: out carries a rounding of about
 *  2⁻²⁴·(|μ|·invStd·|γ| + |γ·x̂| + |β|), so x̂'s error relative to its spread is about 2⁻²⁴·(|μ|·invStd
 *  + |β/γ| + a few); past 64 (or γ = 0) the backward recomputes y instead. */
static bool normalisedFromOut(const float* gamma, const float* beta, const float* saveMean, const float* saveInvStd,
                              int C) {
  for (int c = 0; c < C; ++c) {
    const double g = std::fabs(double(gamma[c]));
    if (!(g > 0) || std::fabs(double(saveMean[c])) * saveInvStd[c] + std::fabs(double(beta[c])) / g > 64) return false;
  }
  return true;
}

/** The backward's pass where y is recomputed, per plane: Σg and Σg·(y[argmax] − μ) into
 *  sums[img][c][2], then Q (argmaxPatchSums) into sums[img][c][2 + t]; and the image's moment
 *  partials unless the forward's are kept. An argmax outside its plane is noted (the call throws
 *  after the pass). */
struct PooledGradSink : ConvStage {
  const float* x;
  const float* dy;
  const float* out;
  const int32_t* argmax;
  const float* saveMean;
  bool relu;
  i64 pooled;
  float* sums;
  float* moments;  // null: kept from the forward
  std::atomic<i64>* badAt;

  void done(int img, int c0, int c1, int thread, const float* image) const {
    float* padded = ctx.perThread[thread].columns.floats(directPaddedSize(s));
    padPlane(x + i64(img) * s.h * s.w, s, padded);
    if (c0 == 0 && moments) imageMoments(padded, s, moments + size_t(img) * kMomentSums);  // once per image
    float* staged = const_cast<float*>(image);  // this thread's own staging buffer
    for (int c = c0; c < c1; ++c) {
      const i64 pl = i64(img) * s.cOut + c;
      const int32_t* am = argmax + pl * pooled;
      const float* g = dy + pl * pooled;
      const float* o = out + pl * pooled;
      float* at = sums + pl * 11;
      if (!pooledGradSums(g, o, am, staged + c * plane, pooled, uint32_t(plane), saveMean[c], relu, at[0], at[1])) {
        noteArgmaxOutside(am, pooled, uint32_t(plane), pl * pooled, *badAt);
        continue;
      }
      argmaxPatchSums(g, o, am, pooled, relu, padded, s, at + 2);
    }
  }
};

static bool convBatchNormMaxPoolBackward(Context& ctx, const float* x, const float* w, const float* bias,
                                         const float* out, const int32_t* argmax, const float* dy, const float* gamma,
                                         const float* beta, const float* saveMean, const float* saveInvStd, float* dw, float* dgamma,
                                         float* dbeta, const ConvShape& s, int poolKh, int poolKw, int poolStride,
                                         bool relu, bool accumulate, double xStamp) {
  if (!convBatchNormMaxPoolApplies(s)) return false;
  const i64 plane = i64(s.hOut()) * s.wOut();
  const PoolShape pool{1, 1, s.hOut(), s.wOut(), poolKh, poolKw, poolStride};
  const i64 pooled = i64(pool.hOut()) * pool.wOut();
  const int C = s.cOut;
  // The input's moment partials: the forward's, kept under x's stamp (the same imageMoments on the
  // same x: the same bits), or taken in the per-image pass that pads each image anyway.
  const bool kept = ctx.moments.holds(x, xStamp, s.n, s.h, s.w, s.pad);
  float* partials = (kept ? ctx.moments.partials : ctx.temp).floats(size_t(s.n) * kMomentSums);
  float* sums = ctx.partials.floats(size_t(s.n) * C * 11);
  std::atomic<i64> badAt{-1};
  const bool fromOut = normalisedFromOut(gamma, beta, saveMean, saveInvStd, C);
  if (fromOut) {
    // no y at all: the sums from out, Q from the input
    ctx.pool.run(s.n, [&](int img, int thread) {
      ThreadScratch& scratch = ctx.perThread[thread];
      float* padded = scratch.columns.floats(directPaddedSize(s));
      padPlane(x + i64(img) * s.h * s.w, s, padded);
      if (!kept) imageMoments(padded, s, partials + size_t(img) * kMomentSums);
      for (int c = 0; c < C; ++c) {
        const i64 pl = i64(img) * C + c;
        const int32_t* am = argmax + pl * pooled;
        float* at = sums + pl * 11;
        if (!pooledGradSumsFromOut(dy + pl * pooled, out + pl * pooled, am, pooled, uint32_t(plane), beta[c],
                                   1.f / gamma[c], relu, at[0], at[1])) {
          noteArgmaxOutside(am, pooled, uint32_t(plane), pl * pooled, badAt);
          continue;
        }
        argmaxPatchSums(dy + pl * pooled, out + pl * pooled, am, pooled, relu, padded, s, at + 2);
      }
    });
  } else {
    directSingleChannelForwardInto(
        ctx, x, w, bias, s, false,
        PooledGradSink{{ctx, s, plane}, x, dy, out, argmax, saveMean, relu, pooled, sums, kept ? nullptr : partials, &badAt});
  }
  throwIfArgmaxOutside("convBatchNormMaxPoolBackward", badAt, argmax, plane);
  const InputMoments moments(partials, s);
  for (int c = 0; c < C; ++c) {
    const float invStd = saveInvStd[c];
    double sumDy = 0, sumDyXhat = 0, Q[9] = {};
    for (int img = 0; img < s.n; ++img) {
      const float* at = sums + (i64(img) * C + c) * 11;
      sumDy += at[0];
      sumDyXhat += fromOut ? double(at[1]) : double(at[1]) * invStd;
      for (int t = 0; t < 9; ++t) Q[t] += at[2 + t];
    }
    const PooledBackward pb = pooledBackwardFrom(sumDy, sumDyXhat, c, i64(s.n) * plane, gamma, saveMean, invStd,
                                                 dgamma, dbeta, accumulate);
    const double offset = moments.mean(w, bias, c) - double(saveMean[c]);
    for (int t = 0; t < 9; ++t) {
      const double centred = moments.N * moments.covarianceWith(w, c, t) + offset * moments.S[t];  // Σ_p (y − μ)·x_t
      const double grad = -pb.shiftD * moments.S[t] - pb.slopeD * centred + pb.k * Q[t];
      dw[c * 9 + t] = float(accumulate ? dw[c * 9 + t] + grad : grad);
    }
  }
  return true;
}
#else
// Without vectors (portable and NEON tables) the backend composes the unfused kernels.
static bool convBatchNormMaxPoolApplies(const ConvShape&) { return false; }
static bool convBatchNormMaxPoolTrain(Context&, const float*, const float*, const float*, const float*, const float*,
                                      float*, float*, float*, int32_t*, float*, float*, const ConvShape&, int, int, int,
                                      float, float, bool, double) {
  return false;
}
static bool convBatchNormMaxPoolBackward(Context&, const float*, const float*, const float*, const float*,
                                         const int32_t*, const float*, const float*, const float*, const float*,
                                         const float*, float*,
                                         float*, float*, const ConvShape&, int, int, int, bool, bool, double) {
  return false;
}
#endif

}  // namespace INKLING_NS
