// Dropout (the counter hash of src/nn/dropout-rng.ts, bit for bit), softmax, fused softmax +
// cross-entropy and the optimizer updates.
#pragma once

namespace INKLING_NS {

static inline uint32_t lowbias32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x7feb352du;
  x ^= x >> 15;
  x *= 0x846ca68bu;
  x ^= x >> 16;
  return x;
}

/** keep iff (bits >> 8) / 2^24 >= p, i.e. bits >> 8 >= ceil(p · 2^24) (exact in integers).
 *  Elements are walked in runs that share one hash counter (a dropout2d plane): one hash per run,
 *  then a plain scaled copy that the compiler vectorizes, the counter stepped, never divided for.
 *  One element per counter (plain dropout) is its own loop with the keep as a select: a branch
 *  on a coin flip mispredicted every other element (38 cycles per element at batch 64's fc1). */
static void dropout(Context& ctx, const float* x, float* out, i64 n, double p, uint32_t seed, uint32_t step,
                    i64 spatial, bool accumulate) {
  const uint32_t key = lowbias32(seed ^ (step * 0x85ebca6bu));
  const double threshold = std::ceil(p * 16777216.0);
  const uint32_t keepFrom = threshold > 16777216.0 ? 16777217u : uint32_t(threshold);
  const double scaleD = p < 1.0 ? 1.0 / (1.0 - p) : 0.0;
  const i64 run = std::max<i64>(1, spatial);
  const auto keeps = [&](i64 counter) { return (lowbias32((uint32_t(counter) * 0x9e3779b1u) ^ key) >> 8) >= keepFrom; };
  parallelRange(ctx, n, kGrain / 4, [&](i64 i0, i64 i1) {
    // x·scale in double then rounded once, like the TypeScript reference
    if (run == 1) {
      if (accumulate)
        for (i64 i = i0; i < i1; ++i) {
          const float v = out[i] + float(double(x[i]) * scaleD);
          out[i] = keeps(i) ? v : out[i];
        }
      else
        for (i64 i = i0; i < i1; ++i) {
          const float v = float(double(x[i]) * scaleD);
          out[i] = keeps(i) ? v : 0.f;
        }
      return;
    }
    i64 i = i0;
    for (i64 counter = i0 / run; i < i1; ++counter) {
      const i64 end = std::min(i1, (counter + 1) * run);
      if (keeps(counter)) {
        if (accumulate)
          for (; i < end; ++i) out[i] += float(double(x[i]) * scaleD);
        else
          for (; i < end; ++i) out[i] = float(double(x[i]) * scaleD);
      } else {
        if (!accumulate)
          for (; i < end; ++i) out[i] = 0.f;
        i = end;
      }
    }
  });
}

static void softmax(Context&, const float* x, float* out, i64 rows, i64 cols, bool logarithm) {
  for (i64 r = 0; r < rows; ++r) {
    const float* in = x + r * cols;
    float* o = out + r * cols;
    float mx = -INFINITY;
    for (i64 c = 0; c < cols; ++c) mx = std::max(mx, in[c]);
    double sum = 0;
    for (i64 c = 0; c < cols; ++c) sum += std::exp(double(in[c]) - mx);
    if (logarithm) {
      const double lse = std::log(sum);
      for (i64 c = 0; c < cols; ++c) o[c] = float(double(in[c]) - mx - lse);
    } else {
      for (i64 c = 0; c < cols; ++c) o[c] = float(std::exp(double(in[c]) - mx) / sum);
    }
  }
}

/** Labels come from the caller: one outside [0, cols) throws before anything is read through it,
 *  with ref's message. */
static void checkLabels(const char* kernel, const int32_t* labels, i64 rows, i64 cols) {
  for (i64 r = 0; r < rows; ++r)
    if (labels[r] < 0 || labels[r] >= cols)
      throw std::runtime_error(std::string(kernel) + ": label " + std::to_string(labels[r]) + " in row " +
                               std::to_string(r) + " is outside [0, " + std::to_string(cols) + ")");
}

/** loss = mean_r −[(1 − s)·logp[label] + (s / cols)·Σ_j logp_j]; probs = softmax(logits). */
static void softmaxCrossEntropy(Context&, const float* logits, const int32_t* labels, float* probs, float* loss,
                                i64 rows, i64 cols, double smoothing) {
  checkLabels("softmaxCrossEntropy", labels, rows, cols);
  double total = 0;
  for (i64 r = 0; r < rows; ++r) {
    const float* in = logits + r * cols;
    float* pr = probs + r * cols;
    float mx = -INFINITY;
    for (i64 c = 0; c < cols; ++c) mx = std::max(mx, in[c]);
    double sum = 0, sumShifted = 0;
    for (i64 c = 0; c < cols; ++c) {
      const double z = double(in[c]) - mx;
      sum += std::exp(z);
      sumShifted += z;
    }
    const double lse = std::log(sum);
    for (i64 c = 0; c < cols; ++c) pr[c] = float(std::exp(double(in[c]) - mx - lse));
    const double logpLabel = double(in[labels[r]]) - mx - lse;
    const double sumLogp = sumShifted - double(cols) * lse;
    total -= (1.0 - smoothing) * logpLabel + smoothing / double(cols) * sumLogp;
  }
  loss[0] = float(rows > 0 ? total / double(rows) : 0.0);
}

/** dlogits (+)= dloss·(probs − t)/rows, t = (1 − s)·onehot + s/cols. */
static void softmaxCrossEntropyBackward(Context&, const float* probs, const int32_t* labels, const float* dloss,
                                        float* dlogits, i64 rows, i64 cols, double smoothing, bool accumulate) {
  checkLabels("softmaxCrossEntropyBackward", labels, rows, cols);
  const double g = double(dloss[0]) / double(rows);
  const double uniform = smoothing / double(cols);
  for (i64 r = 0; r < rows; ++r) {
    const float* pr = probs + r * cols;
    float* d = dlogits + r * cols;
    const int32_t label = labels[r];
    for (i64 c = 0; c < cols; ++c) {
      const double t = (c == label ? 1.0 - smoothing : 0.0) + uniform;
      const float v = float(g * (double(pr[c]) - t));
      d[c] = accumulate ? d[c] + v : v;
    }
  }
}

static void sgdStep(Context& ctx, float* param, const float* grad, float* velocity, i64 n, double lrD,
                    double momentumD, double dampeningD, bool nesterov, double weightDecayD) {
  const float lr = float(lrD), mu = float(momentumD), damp = float(1.0 - dampeningD), wd = float(weightDecayD);
  parallelRange(ctx, n, kGrain, [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) {
      float g = grad[i] + wd * param[i];
      if (mu != 0.f && velocity) {
        const float v = mu * velocity[i] + damp * g;
        velocity[i] = v;
        g = nesterov ? g + mu * v : v;
      }
      param[i] -= lr * g;
    }
  });
}

static void adamStep(Context& ctx, float* param, const float* grad, float* m, float* v, i64 n, double lrD,
                     double beta1D, double beta2D, double epsD, double weightDecayD, bool decoupled, double step) {
  const float b1 = float(beta1D), b2 = float(beta2D), eps = float(epsD);
  const float c1 = float(1.0 - beta1D), c2 = float(1.0 - beta2D);
  const float lr = float(lrD), wd = float(weightDecayD), decay = float(lrD * weightDecayD);
  const float invBc1 = float(1.0 / (1.0 - std::pow(beta1D, step)));
  const float invBc2 = float(1.0 / (1.0 - std::pow(beta2D, step)));
  parallelRange(ctx, n, kGrain, [&](i64 i0, i64 i1) {
    i64 i = i0;
#if INKLING_VEC
    // Written in vectors: GCC left the scalar loop below unvectorized (vsqrtss and vdivss per
    // parameter: the four arrays may alias as far as it knows). Same operations in the same order.
    const vf vb1 = vset1(b1), vc1 = vset1(c1), vb2 = vset1(b2), vc2 = vset1(c2), vlr = vset1(lr);
    const vf vInv1 = vset1(invBc1), vInv2 = vset1(invBc2), vEps = vset1(eps), vDecay = vset1(decay), vWd = vset1(wd);
    for (; i + VL <= i1; i += VL) {
      vf p = vload(param + i), g = vload(grad + i);
      if (decoupled) p = vsub(p, vmul(vDecay, p));
      else g = vadd(g, vmul(vWd, p));
      const vf mi = vadd(vmul(vb1, vload(m + i)), vmul(vc1, g));
      const vf vi = vadd(vmul(vb2, vload(v + i)), vmul(vmul(vc2, g), g));
      vstore(m + i, mi);
      vstore(v + i, vi);
      vstore(param + i, vsub(p, vdiv(vmul(vlr, vmul(mi, vInv1)), vadd(vsqrt(vmul(vi, vInv2)), vEps))));
    }
#endif
    for (; i < i1; ++i) {
      float p = param[i];
      float g = grad[i];
      if (decoupled) p -= decay * p;
      else g += wd * p;
      const float mi = b1 * m[i] + c1 * g;
      const float vi = b2 * v[i] + c2 * g * g;
      m[i] = mi;
      v[i] = vi;
      param[i] = p - lr * (mi * invBc1) / (std::sqrt(vi * invBc2) + eps);
    }
  });
}

}  // namespace INKLING_NS
