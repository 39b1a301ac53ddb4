// Elementwise kernels, reductions over channels, argmax and countEqual. Each loop is one pass,
// written so that the compiler vectorizes it (AVX2 in the -mavx2 build, SSE2/NEON otherwise),
// and split over threads only when the array is large enough to pay for the hand-off.
#pragma once

namespace INKLING_NS {

/** fn(i0, i1) over [0, n) in chunks of at least `grain` elements. Elementwise results do not
 *  depend on the split. */
template <class F>
static void parallelRange(Context& ctx, i64 n, i64 grain, F&& fn) {
  const int threads = ctx.pool.size();
  const i64 tasks = std::max<i64>(1, std::min<i64>(threads, n / grain));
  if (tasks == 1) return fn(i64(0), n);
  ctx.pool.run(int(tasks), [&](int t, int) {
    // Chunk edges on 16-element boundaries keep vector loops aligned to each other.
    i64 i0 = (n * t / tasks) & ~i64(15), i1 = t + 1 == tasks ? n : (n * (t + 1) / tasks) & ~i64(15);
    fn(i0, i1);
  });
}

constexpr i64 kGrain = 1 << 15;  // ~32K floats: below this one thread is faster than two

static void unary(Context& ctx, int op, const float* x, float* out, i64 n) {
  parallelRange(ctx, n, op == kExp || op == kLog ? kGrain / 8 : kGrain, [&](i64 i0, i64 i1) {
    switch (op) {
      case kNeg: for (i64 i = i0; i < i1; ++i) out[i] = -x[i]; break;
      case kExp: for (i64 i = i0; i < i1; ++i) out[i] = std::exp(x[i]); break;
      case kLog: for (i64 i = i0; i < i1; ++i) out[i] = std::log(x[i]); break;
      case kSqrt: for (i64 i = i0; i < i1; ++i) out[i] = std::sqrt(x[i]); break;
      case kAbs: for (i64 i = i0; i < i1; ++i) out[i] = std::fabs(x[i]); break;
      case kRelu: for (i64 i = i0; i < i1; ++i) out[i] = x[i] > 0.f ? x[i] : 0.f; break;
    }
  });
}

static void binary(Context& ctx, int op, const float* a, const float* b, float* out, i64 n) {
  parallelRange(ctx, n, kGrain, [&](i64 i0, i64 i1) {
    switch (op) {
      case kAdd: for (i64 i = i0; i < i1; ++i) out[i] = a[i] + b[i]; break;
      case kSub: for (i64 i = i0; i < i1; ++i) out[i] = a[i] - b[i]; break;
      case kMul: for (i64 i = i0; i < i1; ++i) out[i] = a[i] * b[i]; break;
      case kDiv: for (i64 i = i0; i < i1; ++i) out[i] = a[i] / b[i]; break;
      // torch.maximum propagates NaN
      case kMax: for (i64 i = i0; i < i1; ++i) out[i] = (a[i] != a[i] || a[i] > b[i]) ? a[i] : b[i]; break;
    }
  });
}

static void scale(Context& ctx, const float* x, float alpha, float beta, float* out, i64 n) {
  parallelRange(ctx, n, kGrain, [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) out[i] = alpha * x[i] + beta;
  });
}

static void axpy(Context& ctx, float alpha, const float* x, float* y, i64 n) {
  parallelRange(ctx, n, kGrain, [&](i64 i0, i64 i1) {
    for (i64 i = i0; i < i1; ++i) y[i] += alpha * x[i];
  });
}

static void reluBackward(Context& ctx, const float* x, const float* dy, float* dx, i64 n, bool accumulate) {
  parallelRange(ctx, n, kGrain, [&](i64 i0, i64 i1) {
    if (accumulate)
      for (i64 i = i0; i < i1; ++i) dx[i] += x[i] > 0.f ? dy[i] : 0.f;
    else
      for (i64 i = i0; i < i1; ++i) dx[i] = x[i] > 0.f ? dy[i] : 0.f;
  });
}

/** Sum of n floats in a fixed order: 8 interleaved partial sums (vectorizable), combined as a tree. */
static inline float sumFixedOrder(const float* x, i64 n) {
  float part[8] = {};
  i64 i = 0;
  for (; i + 8 <= n; i += 8)
    for (int t = 0; t < 8; ++t) part[t] += x[i + t];
  for (; i < n; ++i) part[i & 7] += x[i];
  return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

/** out[c] (+)= Σ_{o,i} x[o, c, i]. Work is split over a fixed number of `outer` slices (not over
 *  threads), each slice's sums kept apart and added in slice order. */
static void channelSum(Context& ctx, const float* x, float* out, i64 outer, i64 channels, i64 inner, bool accumulate) {
  const i64 total = outer * channels * inner;
  const int slices = int(std::max<i64>(1, std::min<i64>({outer, 16, total / kGrain + 1})));
  float* partial = ctx.partials.floats(size_t(slices) * channels);
  ctx.pool.run(slices, [&](int sl, int) {
    const i64 o0 = outer * sl / slices, o1 = outer * (sl + 1) / slices;
    float* part = partial + sl * channels;
    for (i64 c = 0; c < channels; ++c) part[c] = 0.f;
    for (i64 o = o0; o < o1; ++o)
      for (i64 c = 0; c < channels; ++c) part[c] += sumFixedOrder(x + (o * channels + c) * inner, inner);
  });
  for (i64 c = 0; c < channels; ++c) {
    float s = 0.f;
    for (int sl = 0; sl < slices; ++sl) s += partial[sl * channels + c];
    out[c] = accumulate ? out[c] + s : s;
  }
}

static void argmax(Context& ctx, const float* x, int32_t* out, i64 rows, i64 cols) {
  parallelRange(ctx, rows, std::max<i64>(1, kGrain / std::max<i64>(cols, 1)), [&](i64 r0, i64 r1) {
    for (i64 r = r0; r < r1; ++r) {
      const float* row = x + r * cols;
      i64 best = 0;
      for (i64 c = 1; c < cols; ++c)
        if (row[c] > row[best]) best = c;
      out[r] = int32_t(best);
    }
  });
}

static void countEqual(Context&, const int32_t* a, const int32_t* b, float* out, i64 n, bool accumulate) {
  i64 count = 0;
  for (i64 i = 0; i < n; ++i) count += a[i] == b[i];
  out[0] = accumulate ? out[0] + float(count) : float(count);
}

}  // namespace INKLING_NS
