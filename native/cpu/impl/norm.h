// Batch normalisation over x viewed as [n, c, spatial]. Work is split over channels (each channel
// reduced by one task, in a fixed order: deterministic for any thread count). Statistics are
// one pass (float vector partials per plane, folded into Σx and Σx² in double, which keeps
// E[x²] − mean² accurate at these sizes); the output pass applies y = x·a + b with
// a = γ·invStd, b = β − mean·a, and the optional ReLU.
#pragma once

namespace INKLING_NS {

template <class F>
static void perChannel(Context& ctx, int n, int c, i64 spatial, F&& fn) {
  const i64 total = i64(n) * c * spatial;
  const int tasks = total < kGrain ? 1 : c;
  if (tasks == 1)
    for (int ch = 0; ch < c; ++ch) fn(ch);
  else
    ctx.pool.run(tasks, [&](int ch, int) { fn(ch); });
}

static inline void normalizePlane(const float* __restrict x, float* __restrict y, i64 len, float a, float b, bool relu) {
  if (relu)
    for (i64 i = 0; i < len; ++i) {
      const float v = x[i] * a + b;
      y[i] = v > 0.f ? v : 0.f;
    }
  else
    for (i64 i = 0; i < len; ++i) y[i] = x[i] * a + b;
}

/** Σx and Σx² over one plane: float partials per vector lane (vectorized), folded in a fixed order. */
static inline void planeSums(const float* __restrict p, i64 len, float& sum, float& sumSq) {
  i64 i = 0;
  float s = 0.f, q = 0.f;
#if INKLING_VEC
  vf s0 = vzero(), s1 = vzero(), q0 = vzero(), q1 = vzero();
  for (; i + 2 * VL <= len; i += 2 * VL) {
    const vf a = vload(p + i), b = vload(p + i + VL);
    s0 = vadd(s0, a);
    s1 = vadd(s1, b);
    q0 = vfmadd(a, a, q0);
    q1 = vfmadd(b, b, q1);
  }
  if (i + VL <= len) {
    const vf a = vload(p + i);
    s0 = vadd(s0, a);
    q0 = vfmadd(a, a, q0);
    i += VL;
  }
  s = vsum(vadd(s0, s1));
  q = vsum(vadd(q0, q1));
#else
  float sp[8] = {}, qp[8] = {};
  for (; i + 8 <= len; i += 8)
    for (int t = 0; t < 8; ++t) {
      sp[t] += p[i + t];
      qp[t] += p[i + t] * p[i + t];
    }
  for (int t = 0; t < 8; ++t) {
    s += sp[t];
    q += qp[t];
  }
#endif
  for (; i < len; ++i) {
    s += p[i];
    q += p[i] * p[i];
  }
  sum = s;
  sumSq = q;
}

/** channelStatistics from the channel's mean and biased variance: also used where the planes are
 *  never stored (impl/conv_bn_pool.h takes them from the input's moments). */
static inline void statisticsFromMoments(double mean, double var, int ch, i64 count, const float* gamma,
                                         const float* beta, float* runningMean, float* runningVar, float* saveMean,
                                         float* saveInvStd, float eps, float momentum, float& a, float& b) {
  if (var < 0) var = 0;
  const double invStd = 1.0 / std::sqrt(var + double(eps));
  saveMean[ch] = float(mean);
  saveInvStd[ch] = float(invStd);
  const double unbiased = count > 1 ? var * double(count) / double(count - 1) : var;
  runningMean[ch] = float((1.0 - momentum) * runningMean[ch] + momentum * mean);
  runningVar[ch] = float((1.0 - momentum) * runningVar[ch] + momentum * unbiased);
  a = float(gamma[ch] * invStd);
  b = float(beta[ch] - mean * gamma[ch] * invStd);
}

/** Batch statistics of channel ch from its n planes' float sums (sumsOf(img, Σx, Σx²)), folded in
 *  image order in double: saves mean and 1/sqrt(var + eps), updates the running statistics, and
 *  returns the normalisation as y = x·a + b. */
template <class PlaneSums>
static inline void statisticsOfPlanes(PlaneSums&& sumsOf, int ch, int n, i64 spatial, const float* gamma,
                                      const float* beta, float* runningMean, float* runningVar, float* saveMean,
                                      float* saveInvStd, float eps, float momentum, float& a, float& b) {
  double sum = 0, sumSq = 0;
  for (int img = 0; img < n; ++img) {
    float s, q;
    sumsOf(img, s, q);
    sum += s;
    sumSq += q;
  }
  const i64 count = i64(n) * spatial;
  const double mean = sum / double(count);
  statisticsFromMoments(mean, sumSq / double(count) - mean * mean, ch, count, gamma, beta, runningMean, runningVar,
                        saveMean, saveInvStd, eps, momentum, a, b);
}

/** statisticsOfPlanes of channel ch over x [n, c, spatial], each plane summed here. */
static inline void channelStatistics(const float* x, int ch, int n, int c, i64 spatial, const float* gamma,
                                     const float* beta, float* runningMean, float* runningVar, float* saveMean,
                                     float* saveInvStd, float eps, float momentum, float& a, float& b) {
  statisticsOfPlanes([&](int img, float& s, float& q) { planeSums(x + (i64(img) * c + ch) * spatial, spatial, s, q); },
                     ch, n, spatial, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, eps, momentum, a, b);
}

static void batchNormTrain(Context& ctx, const float* x, const float* gamma, const float* beta, float* runningMean,
                           float* runningVar, float* out, float* saveMean, float* saveInvStd, int n, int c, i64 spatial,
                           float eps, float momentum, bool relu) {
  perChannel(ctx, n, c, spatial, [&](int ch) {
    float a, b;
    channelStatistics(x, ch, n, c, spatial, gamma, beta, runningMean, runningVar, saveMean, saveInvStd, eps, momentum,
                      a, b);
    for (int img = 0; img < n; ++img) {
      const i64 off = (i64(img) * c + ch) * spatial;
      normalizePlane(x + off, out + off, spatial, a, b, relu);
    }
  });
}

static void batchNormInference(Context& ctx, const float* x, const float* gamma, const float* beta,
                               const float* runningMean, const float* runningVar, float* out, int n, int c, i64 spatial,
                               float eps, bool relu) {
  if (spatial == 1) {  // batchnorm1d: rows of c features
    for (int img = 0; img < n; ++img)
      for (int ch = 0; ch < c; ++ch) {
        const double invStd = 1.0 / std::sqrt(double(runningVar[ch]) + eps);
        const float v = float((x[i64(img) * c + ch] - runningMean[ch]) * invStd * gamma[ch] + beta[ch]);
        out[i64(img) * c + ch] = relu && v < 0.f ? 0.f : v;
      }
    return;
  }
  perChannel(ctx, n, c, spatial, [&](int ch) {
    const double invStd = 1.0 / std::sqrt(double(runningVar[ch]) + eps);
    const float a = float(gamma[ch] * invStd);
    const float b = float(beta[ch] - runningMean[ch] * gamma[ch] * invStd);
    for (int img = 0; img < n; ++img) {
      const i64 off = (i64(img) * c + ch) * spatial;
      normalizePlane(x + off, out + off, spatial, a, b, relu);
    }
  });
}

/** Σg and Σg·(x − mean) over one plane (batch-norm backward), vectorized like planeSums. */
static inline void planeGradSums(const float* __restrict g, const float* __restrict x, float mean, i64 len,
                                 float& sumG, float& sumGX) {
  i64 i = 0;
  float s0 = 0.f, s1 = 0.f;
#if INKLING_VEC
  const vf m = vset1(mean);
  vf a0 = vzero(), a1 = vzero(), b0 = vzero(), b1 = vzero();
  for (; i + 2 * VL <= len; i += 2 * VL) {
    const vf g0 = vload(g + i), g1 = vload(g + i + VL);
    a0 = vadd(a0, g0);
    a1 = vadd(a1, g1);
    b0 = vfmadd(g0, vsub(vload(x + i), m), b0);
    b1 = vfmadd(g1, vsub(vload(x + i + VL), m), b1);
  }
  if (i + VL <= len) {
    const vf g0 = vload(g + i);
    a0 = vadd(a0, g0);
    b0 = vfmadd(g0, vsub(vload(x + i), m), b0);
    i += VL;
  }
  s0 = vsum(vadd(a0, a1));
  s1 = vsum(vadd(b0, b1));
#else
  float sd[8] = {}, sx[8] = {};
  for (; i + 8 <= len; i += 8)
    for (int t = 0; t < 8; ++t) {
      sd[t] += g[i + t];
      sx[t] += g[i + t] * (x[i + t] - mean);
    }
  for (int t = 0; t < 8; ++t) {
    s0 += sd[t];
    s1 += sx[t];
  }
#endif
  for (; i < len; ++i) {
    s0 += g[i];
    s1 += g[i] * (x[i] - mean);
  }
  sumG = s0;
  sumGX = s1;
}

/** dx = γ·invStd/N'·(N'·dy − Σdy − x̂·Σ(dy·x̂)), x̂ = (x − mean)·invStd; dγ (+)= Σ dy·x̂; dβ (+)= Σ dy. */
static void batchNormBackward(Context& ctx, const float* x, const float* dy, const float* gamma, const float* saveMean,
                              const float* saveInvStd, float* dx, float* dgamma, float* dbeta, int n, int c, i64 spatial,
                              bool accumulate) {
  const i64 count = i64(n) * spatial;
  perChannel(ctx, n, c, spatial, [&](int ch) {
    const float mean = saveMean[ch], invStd = saveInvStd[ch];
    double sumDy = 0, sumDyXhat = 0;
    for (int img = 0; img < n; ++img) {
      const i64 off = (i64(img) * c + ch) * spatial;
      float s0, s1;
      planeGradSums(dy + off, x + off, mean, spatial, s0, s1);
      sumDy += s0;
      sumDyXhat += double(s1) * invStd;
    }
    dgamma[ch] = float(accumulate ? dgamma[ch] + sumDyXhat : sumDyXhat);
    dbeta[ch] = float(accumulate ? dbeta[ch] + sumDy : sumDy);
    // dx = k·dy − k/N'·Σdy − k/N'·x̂·Σ(dy·x̂), k = γ·invStd, x̂ = (x − mean)·invStd
    const double k = double(gamma[ch]) * invStd;
    const float kf = float(k);
    const float shift = float(k * sumDy / double(count));
    const float slope = float(k * sumDyXhat / double(count) * invStd);
    // dx is a difference of nearly equal terms when a channel has few values (batchnorm1d, tiny
    // batches): evaluate those in double; large channels in float (vectorized, memory-bound).
    const bool precise = count <= 4096;
    const double shiftD = k * sumDy / double(count), slopeD = k * sumDyXhat / double(count) * invStd;
    for (int img = 0; img < n; ++img) {
      const i64 off = (i64(img) * c + ch) * spatial;
      const float* xp = x + off;
      const float* gp = dy + off;
      float* dp = dx + off;
      if (precise)
        for (i64 i = 0; i < spatial; ++i) dp[i] = float(k * gp[i] - shiftD - slopeD * (double(xp[i]) - mean));
      else
        for (i64 i = 0; i < spatial; ++i) dp[i] = kf * gp[i] - shift - slope * (xp[i] - mean);
    }
  });
}

}  // namespace INKLING_NS
