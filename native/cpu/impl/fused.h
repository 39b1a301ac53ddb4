// Batch norm (training) + activation + max pool as one kernel, forward and backward: the contract's
// batchNormMaxPoolTrain / batchNormMaxPoolBackward (src/nn/backend.ts). The normalised activation
// y = act(x·a + b) is never stored:
//   forward   per channel: statistics of x (one read), then each plane normalised and pooled on the
//             fly (a second read, which hits L2: a channel of conv1 at batch 128 is 400 KB);
//             writes only the pooled output and its argmax.
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
  perChannel(ctx, s.n, s.c, spatial, [&](int ch) {
    PoolInput in;
    in.affine = true;
    in.relu = relu;
    channelStatistics(x, ch, s.n, s.c, spatial, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, eps,
                      momentum, in.a, in.b);
    for (int img = 0; img < s.n; ++img) {
      const i64 pl = i64(img) * s.c + ch;
      if (img + 1 < s.n) prefetchRange(x + (pl + s.c) * spatial, spatial * 4);
      maxPoolPlane(x + pl * spatial, out + pl * outPlane, argmax + pl * outPlane, s, in, x + i64(s.n) * s.c * spatial);
    }
  });
}

/** Σg and Σg·(x[argmax] − mean) over one pooled plane, g = dy masked by out > 0 under ReLU. Also
 *  the bounds check: returns false when an argmax lies outside the plane (x is read at a clamped
 *  index meanwhile, and the caller throws before anything is written through it). */
static inline bool pooledGradSums(const float* __restrict dy, const float* __restrict out,
                                  const int32_t* __restrict am, const float* __restrict x, i64 len, uint32_t plane,
                                  float mean, bool relu, float& sumG, float& sumGX) {
  // four named partials, not an array indexed by q & 3: GCC kept that array in memory, a chain of
  // store-to-load forwards per element
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
  for (; q < len; ++q) term(q, g0, x0);
  sumG = (g0 + g1) + (g2 + g3);
  sumGX = (x0 + x1) + (x2 + x3);
  return worst < plane;
}

/** True when every argmax of the plane lies in its own 2x2 stride-2 window (the forward's always
 *  do): then each input has exactly one window that may route a gradient to it. */
static inline bool argmaxInWindows(const int32_t* am, int ho, int wo, int w) {
  int ok = 1;
  for (int oy = 0; oy < ho; ++oy)
    for (int ox = 0; ox < wo; ++ox) {
      const int32_t r = am[oy * wo + ox] - (2 * oy * w + 2 * ox);
      ok &= (r == 0) | (r == 1) | (r == w) | (r == w + 1);
    }
  return ok != 0;
}

#if INKLING_AVX2 || INKLING_AVX512
/** The dx of one 2x2 stride-2 plane without a scatter: each input gets the batch-norm term
 *  base = −shift − slope·(x − mean) plus k·g when it is its window's argmax, picked by comparing
 *  the argmax with the window's four positions; one store per input, and dx is never read back
 *  (the scatter's read-after-store of dx cost more than the rest of the pass). `end*` are the
 *  tensors' ends: a partial vector is loaded whole while the tensor continues past it. */
static inline void poolPlaneGradWindows(const float* x, const float* g, const float* o, const int32_t* am, float* dp,
                                        const PoolShape& s, bool relu, float kf, float shift, float slope, float mean,
                                        const float* xEnd, const float* gEnd, const float* oEnd,
                                        const int32_t* amEnd) {
  const int ho = s.hOut(), wo = s.wOut(), w = s.w;
  const vf vMean = vset1(mean), vSlope = vset1(slope), vNegShift = vset1(-shift), vk = vset1(kf);
  const auto base = [&](vf xv) { return vfmadd(vsub(vset1(0.f), vSlope), vsub(xv, vMean), vNegShift); };
  const auto loadF = [](const float* p, const float* end, int n) { return p + VL <= end ? vload(p) : vloadN(p, n); };
#if INKLING_AVX512
  const vi lane2 = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
#else
  const __m256i lane2 = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
#endif
  for (int oy = 0; oy < ho; ++oy) {
    const int32_t top = 2 * oy * w;
    const float* r0 = x + top;
    const float* r1 = r0 + w;
    float* d0 = dp + top;
    float* d1 = d0 + w;
    int ox = 0;
    for (; ox < wo; ox += VL) {
      const int n = std::min(VL, wo - ox), q = oy * wo + ox, ix = 2 * ox, lo = std::min(VL, 2 * n), hi = 2 * n - lo;
      vf gv = vmul(vk, loadF(g + q, gEnd, n));
      const vf ov = loadF(o + q, oEnd, n);
      const vf av = loadF(reinterpret_cast<const float*>(am + q), reinterpret_cast<const float*>(amEnd), n);
      vf te, to, be, bo;
#if INKLING_AVX512
      if (relu) gv = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(ov, vzero(), _CMP_GT_OQ), gv);
      const vi r = _mm512_sub_epi32(_mm512_castps_si512(av), _mm512_add_epi32(_mm512_set1_epi32(top + ix), lane2));
      te = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(r, _mm512_set1_epi32(0)), gv);
      to = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(r, _mm512_set1_epi32(1)), gv);
      be = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(r, _mm512_set1_epi32(w)), gv);
      bo = _mm512_maskz_mov_ps(_mm512_cmpeq_epi32_mask(r, _mm512_set1_epi32(w + 1)), gv);
#else
      if (relu) gv = _mm256_and_ps(_mm256_cmp_ps(ov, vzero(), _CMP_GT_OQ), gv);
      const __m256i r = _mm256_sub_epi32(_mm256_castps_si256(av), _mm256_add_epi32(_mm256_set1_epi32(top + ix), lane2));
      const auto pick = [&](int32_t at) {
        return _mm256_and_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(r, _mm256_set1_epi32(at))), gv);
      };
      te = pick(0);
      to = pick(1);
      be = pick(w);
      bo = pick(w + 1);
#endif
      vf tLo, tHi, bLo, bHi;
      vinterleave(te, to, tLo, tHi);
      vinterleave(be, bo, bLo, bHi);
      vstoreN(d0 + ix, vadd(base(loadF(r0 + ix, xEnd, lo)), tLo), lo);
      vstoreN(d1 + ix, vadd(base(loadF(r1 + ix, xEnd, lo)), bLo), lo);
      if (hi > 0) {
        vstoreN(d0 + ix + VL, vadd(base(loadF(r0 + ix + VL, xEnd, hi)), tHi), hi);
        vstoreN(d1 + ix + VL, vadd(base(loadF(r1 + ix + VL, xEnd, hi)), bHi), hi);
      }
    }
    for (int ix = 2 * wo; ix < w; ++ix) {  // odd width: the last column belongs to no window
      d0[ix] = -shift - slope * (r0[ix] - mean);
      d1[ix] = -shift - slope * (r1[ix] - mean);
    }
  }
  for (i64 i = i64(2 * ho) * w; i < i64(s.h) * w; ++i) dp[i] = -shift - slope * (x[i] - mean);  // odd height
}
#endif

static void batchNormMaxPoolBackward(Context& ctx, const float* x, const float* out, const int32_t* argmax,
                                     const float* dy, const float* gamma, const float* saveMean,
                                     const float* saveInvStd, float* dx, float* dgamma, float* dbeta,
                                     const PoolShape& s, bool relu, bool accumulate) {
  const i64 spatial = i64(s.h) * s.w, outPlane = i64(s.hOut()) * s.wOut(), count = i64(s.n) * spatial;
  // An argmax outside its plane would scatter out of bounds: the sums pass notes it, the channel
  // then stops before its dx pass, and the call throws (after the workers are done) naming the
  // lowest bad entry.
  std::atomic<i64> badAt{-1};
  perChannel(ctx, s.n, s.c, spatial, [&](int ch) {
    const float mean = saveMean[ch], invStd = saveInvStd[ch];
    double sumDy = 0, sumDyXhat = 0;
    bool inside = true;
    for (int img = 0; img < s.n; ++img) {
      const i64 pl = i64(img) * s.c + ch;
      if (img + 1 < s.n) {
        prefetchRange(x + (pl + s.c) * spatial, spatial * 4);
        prefetchRange(dy + (pl + s.c) * outPlane, outPlane * 4);
        prefetchRange(out + (pl + s.c) * outPlane, outPlane * 4);
        prefetchRange(argmax + (pl + s.c) * outPlane, outPlane * 4);
      }
      float s0, s1;
      const int32_t* am = argmax + pl * outPlane;
      if (!pooledGradSums(dy + pl * outPlane, out + pl * outPlane, am, x + pl * spatial, outPlane,
                          uint32_t(spatial), mean, relu, s0, s1)) {
        for (i64 q = 0; q < outPlane; ++q)
          if (uint32_t(am[q]) >= uint64_t(spatial)) noteFirst(badAt, pl * outPlane + q);
        inside = false;
      }
      sumDy += s0;
      sumDyXhat += double(s1) * invStd;
    }
    if (!inside) return;
    dgamma[ch] = float(accumulate ? dgamma[ch] + sumDyXhat : sumDyXhat);
    dbeta[ch] = float(accumulate ? dbeta[ch] + sumDy : sumDy);
    const double k = double(gamma[ch]) * invStd;
    const double shiftD = k * sumDy / double(count), slopeD = k * sumDyXhat / double(count) * invStd;
    const float kf = float(k), shift = float(shiftD), slope = float(slopeD);
    // As batchNormBackward: few values per channel are evaluated in double (cancellation).
    const bool precise = count <= 4096;
    const bool windows2x2 = s.kh == 2 && s.kw == 2 && s.stride == 2;
    const i64 outLen = i64(s.n) * s.c * outPlane;
    (void)outLen;
    const float* xEnd = x + i64(s.n) * s.c * spatial;
    (void)windows2x2;
    (void)xEnd;
    for (int img = 0; img < s.n; ++img) {
      const i64 pl = i64(img) * s.c + ch;
      const float* xp = x + pl * spatial;
      float* dp = dx + pl * spatial;
      const float* g = dy + pl * outPlane;
      const float* o = out + pl * outPlane;
      const int32_t* am = argmax + pl * outPlane;
      if (img + 1 < s.n) {
        prefetchRange(x + (pl + s.c) * spatial, spatial * 4);
        prefetchRange<1>(dx + (pl + s.c) * spatial, spatial * 4);
        prefetchRange(dy + (pl + s.c) * outPlane, outPlane * 4);
        prefetchRange(out + (pl + s.c) * outPlane, outPlane * 4);
        prefetchRange(argmax + (pl + s.c) * outPlane, outPlane * 4);
      }
      if (precise) {
        for (i64 i = 0; i < spatial; ++i) dp[i] = float(-shiftD - slopeD * (double(xp[i]) - mean));
        for (i64 q = 0; q < outPlane; ++q)
          if (!relu || o[q] > 0.f) dp[am[q]] = float(double(dp[am[q]]) + k * g[q]);
      } else {
#if INKLING_AVX2 || INKLING_AVX512
        if (windows2x2 && argmaxInWindows(am, s.hOut(), s.wOut(), s.w)) {
          poolPlaneGradWindows(xp, g, o, am, dp, s, relu, kf, shift, slope, mean, xEnd, dy + outLen, out + outLen,
                               argmax + outLen);
          continue;
        }
#endif
        for (i64 i = 0; i < spatial; ++i) dp[i] = -shift - slope * (xp[i] - mean);
        // The masked k·g first, in blocks (a loop that vectorizes), then a scatter with no
        // condition in it: with the select inside, GCC branched on the mask, which is random data.
        constexpr int kBlock = 256;
        float kg[kBlock];
        for (i64 q0 = 0; q0 < outPlane; q0 += kBlock) {
          const int m = int(std::min<i64>(kBlock, outPlane - q0));
          for (int q = 0; q < m; ++q) kg[q] = !relu || o[q0 + q] > 0.f ? kf * g[q0 + q] : 0.f;
          for (int q = 0; q < m; ++q) dp[am[q0 + q]] += kg[q];
        }
      }
    }
  });
  const i64 bad = badAt.load();
  if (bad >= 0)
    throw std::runtime_error("batchNormMaxPoolBackward: argmax[" + std::to_string(bad) + "] = " +
                             std::to_string(argmax[bad]) + " is outside its plane of " + std::to_string(spatial) +
                             " elements (argmax must come from the forward pass)");
}

}  // namespace INKLING_NS
