// Batch normalisation over x viewed as [n, c, spatial]. Work is split over channels (each channel
// reduced by one task, in a fixed order: deterministic for any thread count). Statistics are
// one pass (Σx and Σx² in double, which keeps E[x²] − mean² accurate at these sizes); the
// output pass applies y = x·a + b with a = γ·invStd, b = β − mean·a, and the optional ReLU.
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

static void batchNormTrain(Context& ctx, const float* x, const float* gamma, const float* beta, float* runningMean,
                           float* runningVar, float* out, float* saveMean, float* saveInvStd, int n, int c, i64 spatial,
                           float eps, float momentum, bool relu) {
  const i64 count = i64(n) * spatial;
  perChannel(ctx, n, c, spatial, [&](int ch) {
    double sum = 0, sumSq = 0;
    for (int img = 0; img < n; ++img) {
      const float* p = x + (i64(img) * c + ch) * spatial;
      // float partials per plane (vectorized), folded into double per plane
      float s = 0.f, q = 0.f;
      float sp[8] = {}, qp[8] = {};
      i64 i = 0;
      for (; i + 8 <= spatial; i += 8)
        for (int t = 0; t < 8; ++t) {
          sp[t] += p[i + t];
          qp[t] += p[i + t] * p[i + t];
        }
      for (; i < spatial; ++i) {
        s += p[i];
        q += p[i] * p[i];
      }
      for (int t = 0; t < 8; ++t) {
        s += sp[t];
        q += qp[t];
      }
      sum += s;
      sumSq += q;
    }
    const double mean = sum / double(count);
    double var = sumSq / double(count) - mean * mean;
    if (var < 0) var = 0;
    const double invStd = 1.0 / std::sqrt(var + double(eps));
    saveMean[ch] = float(mean);
    saveInvStd[ch] = float(invStd);
    const double unbiased = count > 1 ? var * double(count) / double(count - 1) : var;
    runningMean[ch] = float((1.0 - momentum) * runningMean[ch] + momentum * mean);
    runningVar[ch] = float((1.0 - momentum) * runningVar[ch] + momentum * unbiased);
    const float a = float(gamma[ch] * invStd);
    const float b = float(beta[ch] - mean * gamma[ch] * invStd);
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
      const float* xp = x + off;
      const float* gp = dy + off;
      float sd[8] = {}, sx[8] = {};
      float s0 = 0.f, s1 = 0.f;
      i64 i = 0;
      for (; i + 8 <= spatial; i += 8)
        for (int t = 0; t < 8; ++t) {
          sd[t] += gp[i + t];
          sx[t] += gp[i + t] * (xp[i + t] - mean);
        }
      for (; i < spatial; ++i) {
        s0 += gp[i];
        s1 += gp[i] * (xp[i] - mean);
      }
      for (int t = 0; t < 8; ++t) {
        s0 += sd[t];
        s1 += sx[t];
      }
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
