// Max and average pooling (no padding, floor mode), split over (n, c) planes. The 2x2 stride-2
// max pool of the seed CNN has its own vector loop (AVX-512, AVX2 and NEON), which the fused batch
// norm + ReLU + max pool (fused.h) shares.
#pragma once

namespace INKLING_NS {

/** first = min(first, i) over threads; -1 means none yet. */
static inline void noteFirst(std::atomic<i64>& first, i64 i) {
  i64 seen = first.load(std::memory_order_relaxed);
  while ((seen < 0 || i < seen) && !first.compare_exchange_weak(seen, i, std::memory_order_relaxed)) {
  }
}

template <class F>
static void perPlane(Context& ctx, const PoolShape& s, F&& fn) {
  const int planes = s.n * s.c;
  const i64 total = i64(planes) * s.h * s.w;
  // A pool costs several operations per input (loads, selects, index arithmetic): worth two
  // threads from a few thousand inputs (batch-1 inference's 12.5K and 25K).
  const int tasks = total < kGrain / 8 ? 1 : std::min(planes, 8 * ctx.pool.size());
  ctx.pool.run(tasks, [&](int t, int) {
    for (int pl = planes * t / tasks, end = planes * (t + 1) / tasks; pl < end; ++pl) fn(pl);
  });
}

/** Input values as the pool sees them: x itself, or (the fused batch norm) relu?(x·a + b). */
struct PoolInput {
  bool affine = false;
  float a = 1.f, b = 0.f;
  bool relu = false;
  float operator()(float x) const {
    if (!affine) return x;
    const float v = x * a + b;
    return relu && !(v > 0.f) ? 0.f : v;
  }
#if INKLING_VEC
  vf operator()(vf x) const {
    if (!affine) return x;
    const vf v = vfmadd(x, vset1(a), vset1(b));
    return relu ? vmax(v, vzero()) : v;
  }
#endif
};

/** One output row of the 2x2 stride-2 max pool: rows r0 and r1 of the input (plane offsets top
 *  and bottom), wo outputs. Window order (0,0) (0,1) (1,0) (1,1), first on ties: as a tree of
 *  selects (no branches: random data mispredicts them half the time), the first of each row pair,
 *  then the top pair unless the bottom one is strictly larger. Same answer as a scan. */
static inline void maxPool2x2Row(const float* r0, const float* r1, int wo, int32_t top, int32_t bottom, float* o,
                                 int32_t* am, const PoolInput& in, const float* end, bool spill = false) {
  int ox = 0;
#if INKLING_VEC
  // A row's partial last vector is loaded whole when the tensor continues past it (the lanes past
  // the row belong to the next row and are never stored): masked loads are slow on some CPUs
  // (Zen 1: ~10 cycles each). Only the tensor's very end needs a masked load.
  const auto load = [end](const float* p, int n) { return p + VL <= end ? vload(p) : vloadN(p, n); };
#endif
#if INKLING_AVX512
  // 16 outputs from 32 inputs per row: even and odd columns gathered by a two-source permute, the
  // same select tree on mask registers; the row's tail is a masked load and store (pool1's 14 and
  // pool2's 7 outputs per row are one iteration).
  const vi evenIdx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
  const vi oddIdx = _mm512_add_epi32(evenIdx, _mm512_set1_epi32(1));
  const vi one = _mm512_set1_epi32(1);
  for (; ox < wo; ox += 16) {
    const int n = std::min(16, wo - ox), ix = 2 * ox, lo = std::min(16, 2 * n), hi = 2 * n - lo;
    const vf t0 = in(load(r0 + ix, lo)), t1 = in(load(r0 + ix + 16, hi));
    const vf b0 = in(load(r1 + ix, lo)), b1 = in(load(r1 + ix + 16, hi));
    const vf tEven = _mm512_permutex2var_ps(t0, evenIdx, t1), tOdd = _mm512_permutex2var_ps(t0, oddIdx, t1);
    const vf bEven = _mm512_permutex2var_ps(b0, evenIdx, b1), bOdd = _mm512_permutex2var_ps(b0, oddIdx, b1);
    const vmask rightTop = _mm512_cmp_ps_mask(tOdd, tEven, _CMP_GT_OQ);
    const vmask rightBottom = _mm512_cmp_ps_mask(bOdd, bEven, _CMP_GT_OQ);
    const vf mTop = _mm512_mask_blend_ps(rightTop, tEven, tOdd);
    const vf mBottom = _mm512_mask_blend_ps(rightBottom, bEven, bOdd);
    const vmask useBottom = _mm512_cmp_ps_mask(mBottom, mTop, _CMP_GT_OQ);
    const vi col = _mm512_add_epi32(_mm512_set1_epi32(ix), evenIdx);
    vi iTop = _mm512_add_epi32(col, _mm512_set1_epi32(top));
    vi iBottom = _mm512_add_epi32(col, _mm512_set1_epi32(bottom));
    iTop = _mm512_mask_add_epi32(iTop, rightTop, iTop, one);
    iBottom = _mm512_mask_add_epi32(iBottom, rightBottom, iBottom, one);
    vstoreN(o + ox, _mm512_mask_blend_ps(useBottom, mTop, mBottom), n);
    // the indices go through the float store: a masked store moves bits, whatever their type
    vstoreN(reinterpret_cast<float*>(am + ox), _mm512_castsi512_ps(_mm512_mask_blend_epi32(useBottom, iTop, iBottom)), n);
  }
#elif INKLING_AVX2
  // 8 outputs at a time: split each row's 16 inputs into even and odd columns, then the same
  // select tree on vectors. shuffle_ps works per 128-bit lane, so lanes hold outputs
  // [0 1 4 5 | 2 3 6 7] until the final 64-bit permute restores the order. The row's tail is a
  // masked load and store.
  const __m256i laneOffsets = _mm256_setr_epi32(0, 2, 8, 10, 4, 6, 12, 14);
  for (; ox < wo; ox += 8) {
    const int n = std::min(8, wo - ox), ix = 2 * ox, lo = std::min(8, 2 * n), hi = 2 * n - lo;
    const __m256 t0 = in(load(r0 + ix, lo)), t1 = in(load(r0 + ix + 8, hi));
    const __m256 b0 = in(load(r1 + ix, lo)), b1 = in(load(r1 + ix + 8, hi));
    const __m256 tEven = _mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 tOdd = _mm256_shuffle_ps(t0, t1, _MM_SHUFFLE(3, 1, 3, 1));
    const __m256 bEven = _mm256_shuffle_ps(b0, b1, _MM_SHUFFLE(2, 0, 2, 0));
    const __m256 bOdd = _mm256_shuffle_ps(b0, b1, _MM_SHUFFLE(3, 1, 3, 1));
    const __m256 rightTop = _mm256_cmp_ps(tOdd, tEven, _CMP_GT_OQ);
    const __m256 rightBottom = _mm256_cmp_ps(bOdd, bEven, _CMP_GT_OQ);
    const __m256 mTop = _mm256_blendv_ps(tEven, tOdd, rightTop);
    const __m256 mBottom = _mm256_blendv_ps(bEven, bOdd, rightBottom);
    const __m256 useBottom = _mm256_cmp_ps(mBottom, mTop, _CMP_GT_OQ);
    const __m256i col = _mm256_add_epi32(_mm256_set1_epi32(ix), laneOffsets);
    // a true compare is all ones, i.e. −1: subtracting it adds the odd column's 1
    const __m256i iTop = _mm256_sub_epi32(_mm256_add_epi32(col, _mm256_set1_epi32(top)), _mm256_castps_si256(rightTop));
    const __m256i iBottom =
        _mm256_sub_epi32(_mm256_add_epi32(col, _mm256_set1_epi32(bottom)), _mm256_castps_si256(rightBottom));
    const __m256 best = _mm256_blendv_ps(mTop, mBottom, useBottom);
    const __m256 at = _mm256_blendv_ps(_mm256_castsi256_ps(iTop), _mm256_castsi256_ps(iBottom), useBottom);
    const __m256 bestOrdered = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(best), 0xD8));
    const __m256 atOrdered = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(at), 0xD8));
    // the plane's last row stores its tail through vstoreN (a stack copy on AVX2: no masked store)
    vstoreN(o + ox, bestOrdered, spill ? 8 : n);
    vstoreN(reinterpret_cast<float*>(am + ox), atOrdered, spill ? 8 : n);
  }
#elif INKLING_NEON
  // 4 outputs at a time: vld2q_f32 de-interleaves 8 inputs into even and odd columns (the loads
  // stay inside the row), then the same select tree (vbslq) on vectors; a true compare is all
  // ones, i.e. −1 as int32. The fused batch norm's affine + ReLU is applied to the loaded vectors
  // (vmaxnmq: a NaN becomes 0, as in the scalar `in`).
  const int32x4_t laneOffsets = {0, 2, 4, 6};
  const float32x4_t va = vdupq_n_f32(in.a), vb = vdupq_n_f32(in.b), vzero4 = vdupq_n_f32(0.f);
  const auto see = [&](float32x4_t v) {
    if (!in.affine) return v;
    v = vfmaq_f32(vb, v, va);
    return in.relu ? vmaxnmq_f32(v, vzero4) : v;
  };
  for (; ox + 4 <= wo; ox += 4) {
    const int ix = 2 * ox;
    const float32x4x2_t t = vld2q_f32(r0 + ix), bt = vld2q_f32(r1 + ix);
    const float32x4_t tEven = see(t.val[0]), tOdd = see(t.val[1]), bEven = see(bt.val[0]), bOdd = see(bt.val[1]);
    const uint32x4_t rightTop = vcgtq_f32(tOdd, tEven);
    const uint32x4_t rightBottom = vcgtq_f32(bOdd, bEven);
    const float32x4_t mTop = vbslq_f32(rightTop, tOdd, tEven);
    const float32x4_t mBottom = vbslq_f32(rightBottom, bOdd, bEven);
    const uint32x4_t useBottom = vcgtq_f32(mBottom, mTop);
    const int32x4_t col = vaddq_s32(vdupq_n_s32(ix), laneOffsets);
    const int32x4_t iTop = vsubq_s32(vaddq_s32(col, vdupq_n_s32(top)), vreinterpretq_s32_u32(rightTop));
    const int32x4_t iBottom = vsubq_s32(vaddq_s32(col, vdupq_n_s32(bottom)), vreinterpretq_s32_u32(rightBottom));
    vst1q_f32(o + ox, vbslq_f32(useBottom, mBottom, mTop));
    vst1q_s32(am + ox, vbslq_s32(useBottom, iBottom, iTop));
  }
#endif
  for (; ox < wo; ++ox) {
    const int ix = 2 * ox;
    const float a = in(r0[ix]), b = in(r0[ix + 1]), c = in(r1[ix]), d = in(r1[ix + 1]);
    const bool rightTop = b > a, rightBottom = d > c;
    const float mTop = rightTop ? b : a, mBottom = rightBottom ? d : c;
    const int32_t iTop = top + ix + (rightTop ? 1 : 0), iBottom = bottom + ix + (rightBottom ? 1 : 0);
    const bool useBottom = mBottom > mTop;
    o[ox] = useBottom ? mBottom : mTop;
    am[ox] = useBottom ? iBottom : iTop;
  }
}

/** One (n, c) plane of the max pool, inputs seen through `in`; `end` is the end of the whole input
 *  tensor (reads may run past a row, never past `end`). */
static inline void maxPoolPlane(const float* x, float* o, int32_t* am, const PoolShape& s, const PoolInput& in,
                                const float* end) {
  const int ho = s.hOut(), wo = s.wOut();
  if (s.kh == 2 && s.kw == 2 && s.stride == 2) {
    for (int oy = 0; oy < ho; ++oy) {
      const int32_t top = 2 * oy * s.w;
      // a row may store whole vectors past its end (AVX2: no masked stores) when the rest of the
      // plane holds a vector's worth of outputs: the later rows, written after it by the same
      // task, overwrite those lanes (16: the widest vector of any table)
      maxPool2x2Row(x + top, x + top + s.w, wo, top, top + s.w, o + oy * wo, am + oy * wo, in, end,
                    (ho - 1 - oy) * wo >= 16);
    }
    return;
  }
  for (int oy = 0; oy < ho; ++oy)
    for (int ox = 0; ox < wo; ++ox) {
      const int y0 = oy * s.stride, x0 = ox * s.stride;
      float best = in(x[y0 * s.w + x0]);
      int32_t at = y0 * s.w + x0;
      for (int ky = 0; ky < s.kh; ++ky)
        for (int kx = 0; kx < s.kw; ++kx) {
          const int idx = (y0 + ky) * s.w + x0 + kx;
          const float v = in(x[idx]);
          if (v > best) { best = v; at = idx; }
        }
      o[oy * wo + ox] = best;
      am[oy * wo + ox] = at;
    }
}

static void maxPool2d(Context& ctx, const float* x, float* out, int32_t* argmax, const PoolShape& s) {
  const i64 outPlane = i64(s.hOut()) * s.wOut();
  const float* end = x + i64(s.n) * s.c * s.h * s.w;
  perPlane(ctx, s, [&](int pl) {
    maxPoolPlane(x + i64(pl) * s.h * s.w, out + pl * outPlane, argmax + pl * outPlane, s, PoolInput{}, end);
  });
}

// argmax comes from the caller (any int32 buffer): an entry outside its plane is skipped, never
// written through, and the call then throws naming the lowest such entry, as ref does. The check
// is a separate unsigned-max pass over the plane's argmax (it vectorizes), so the scatter loop
// stays exactly the unchecked one when every entry is in range (cost: native/cpu/README.md).
static void maxPool2dBackward(Context& ctx, const float* dy, const int32_t* argmax, float* dx, const PoolShape& s) {
  const int ho = s.hOut(), wo = s.wOut();
  const uint32_t plane = uint32_t(s.h) * uint32_t(s.w);
  std::atomic<i64> firstBad{-1};
  perPlane(ctx, s, [&](int pl) {
    float* d = dx + i64(pl) * s.h * s.w;
    std::memset(d, 0, sizeof(float) * s.h * s.w);
    const float* g = dy + i64(pl) * ho * wo;
    const int32_t* am = argmax + i64(pl) * ho * wo;
    uint32_t largest = 0;  // a negative index wraps above the plane
    for (int i = 0; i < ho * wo; ++i) largest = std::max(largest, uint32_t(am[i]));
    if (largest < plane) {
      for (int i = 0; i < ho * wo; ++i) d[am[i]] += g[i];
      return;
    }
    for (int i = 0; i < ho * wo; ++i) {
      const uint32_t at = uint32_t(am[i]);
      if (at < plane) d[at] += g[i];
      else noteFirst(firstBad, i64(pl) * ho * wo + i);
    }
  });
  const i64 bad = firstBad.load();
  if (bad >= 0)
    throw std::runtime_error("maxPool2dBackward: argmax[" + std::to_string(bad) + "] = " + std::to_string(argmax[bad]) +
                             " is outside the " + std::to_string(s.h) + "x" + std::to_string(s.w) + " plane");
}

static void avgPool2d(Context& ctx, const float* x, float* out, const PoolShape& s) {
  const int ho = s.hOut(), wo = s.wOut();
  const float inv = 1.f / float(s.kh * s.kw);
  perPlane(ctx, s, [&](int pl) {
    const float* in = x + i64(pl) * s.h * s.w;
    float* o = out + i64(pl) * ho * wo;
    for (int oy = 0; oy < ho; ++oy)
      for (int ox = 0; ox < wo; ++ox) {
        float sum = 0.f;
        for (int ky = 0; ky < s.kh; ++ky) {
          const float* row = in + (oy * s.stride + ky) * s.w + ox * s.stride;
          for (int kx = 0; kx < s.kw; ++kx) sum += row[kx];
        }
        o[oy * wo + ox] = sum * inv;
      }
  });
}

static void avgPool2dBackward(Context& ctx, const float* dy, float* dx, const PoolShape& s) {
  const int ho = s.hOut(), wo = s.wOut();
  const float inv = 1.f / float(s.kh * s.kw);
  perPlane(ctx, s, [&](int pl) {
    float* d = dx + i64(pl) * s.h * s.w;
    std::memset(d, 0, sizeof(float) * s.h * s.w);
    const float* g = dy + i64(pl) * ho * wo;
    for (int oy = 0; oy < ho; ++oy)
      for (int ox = 0; ox < wo; ++ox) {
        const float v = g[oy * wo + ox] * inv;
        for (int ky = 0; ky < s.kh; ++ky) {
          float* row = d + (oy * s.stride + ky) * s.w + ox * s.stride;
          for (int kx = 0; kx < s.kw; ++kx) row[kx] += v;
        }
      }
  });
}

}  // namespace INKLING_NS
