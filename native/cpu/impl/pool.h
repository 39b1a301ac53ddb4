// Max and average pooling (no padding, floor mode), split over (n, c) planes. The 2x2 stride-2
// max pool of the seed CNN has its own loop.
#pragma once

namespace INKLING_NS {

template <class F>
static void perPlane(Context& ctx, const PoolShape& s, F&& fn) {
  const int planes = s.n * s.c;
  const i64 total = i64(planes) * s.h * s.w;
  const int tasks = total < kGrain ? 1 : std::min(planes, 8 * ctx.pool.size());
  ctx.pool.run(tasks, [&](int t, int) {
    for (int pl = planes * t / tasks, end = planes * (t + 1) / tasks; pl < end; ++pl) fn(pl);
  });
}

static void maxPool2d(Context& ctx, const float* x, float* out, int32_t* argmax, const PoolShape& s) {
  const int ho = s.hOut(), wo = s.wOut();
  perPlane(ctx, s, [&](int pl) {
    const float* in = x + i64(pl) * s.h * s.w;
    float* o = out + i64(pl) * ho * wo;
    int32_t* am = argmax + i64(pl) * ho * wo;
    if (s.kh == 2 && s.kw == 2 && s.stride == 2) {
      for (int oy = 0; oy < ho; ++oy) {
        const float* r0 = in + (2 * oy) * s.w;
        const float* r1 = r0 + s.w;
        const int32_t top = 2 * oy * s.w, bottom = top + s.w;
        int ox = 0;
#if INKLING_AVX2
        // 8 outputs at a time: split each row's 16 inputs into even and odd columns, then the
        // same select tree on vectors. shuffle_ps works per 128-bit lane, so lanes hold outputs
        // [0 1 4 5 | 2 3 6 7] until the final 64-bit permute restores the order.
        const __m256i laneOffsets = _mm256_setr_epi32(0, 2, 8, 10, 4, 6, 12, 14);
        for (; ox + 8 <= wo; ox += 8) {
          const int ix = 2 * ox;
          const __m256 t0 = _mm256_loadu_ps(r0 + ix), t1 = _mm256_loadu_ps(r0 + ix + 8);
          const __m256 b0 = _mm256_loadu_ps(r1 + ix), b1 = _mm256_loadu_ps(r1 + ix + 8);
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
          _mm256_storeu_ps(o + oy * wo + ox, _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(best), 0xD8)));
          _mm256_storeu_si256(reinterpret_cast<__m256i*>(am + oy * wo + ox),
                              _mm256_castpd_si256(_mm256_permute4x64_pd(_mm256_castps_pd(at), 0xD8)));
        }
#elif INKLING_NEON
        // 4 outputs at a time: vld2q_f32 de-interleaves 8 inputs into even and odd columns, then
        // the same select tree (vbslq) on vectors; a true compare is all ones, i.e. −1 as int32.
        const int32x4_t laneOffsets = {0, 2, 4, 6};
        for (; ox + 4 <= wo; ox += 4) {
          const int ix = 2 * ox;
          const float32x4x2_t t = vld2q_f32(r0 + ix), bt = vld2q_f32(r1 + ix);
          const uint32x4_t rightTop = vcgtq_f32(t.val[1], t.val[0]);
          const uint32x4_t rightBottom = vcgtq_f32(bt.val[1], bt.val[0]);
          const float32x4_t mTop = vbslq_f32(rightTop, t.val[1], t.val[0]);
          const float32x4_t mBottom = vbslq_f32(rightBottom, bt.val[1], bt.val[0]);
          const uint32x4_t useBottom = vcgtq_f32(mBottom, mTop);
          const int32x4_t col = vaddq_s32(vdupq_n_s32(ix), laneOffsets);
          const int32x4_t iTop = vsubq_s32(vaddq_s32(col, vdupq_n_s32(top)), vreinterpretq_s32_u32(rightTop));
          const int32x4_t iBottom = vsubq_s32(vaddq_s32(col, vdupq_n_s32(bottom)), vreinterpretq_s32_u32(rightBottom));
          vst1q_f32(o + oy * wo + ox, vbslq_f32(useBottom, mBottom, mTop));
          vst1q_s32(am + oy * wo + ox, vbslq_s32(useBottom, iBottom, iTop));
        }
#endif
        for (; ox < wo; ++ox) {
          // Window order (0,0) (0,1) (1,0) (1,1), first on ties. As a tree of selects (no
          // branches: random data mispredicts them half the time): the first of each row pair,
          // then the top pair unless the bottom one is strictly larger. Same answer as a scan.
          const int ix = 2 * ox;
          const float a = r0[ix], b = r0[ix + 1], c = r1[ix], d = r1[ix + 1];
          const bool rightTop = b > a, rightBottom = d > c;
          const float mTop = rightTop ? b : a, mBottom = rightBottom ? d : c;
          const int32_t iTop = top + ix + (rightTop ? 1 : 0), iBottom = bottom + ix + (rightBottom ? 1 : 0);
          const bool useBottom = mBottom > mTop;
          o[oy * wo + ox] = useBottom ? mBottom : mTop;
          am[oy * wo + ox] = useBottom ? iBottom : iTop;
        }
      }
      return;
    }
    for (int oy = 0; oy < ho; ++oy)
      for (int ox = 0; ox < wo; ++ox) {
        const int y0 = oy * s.stride, x0 = ox * s.stride;
        float best = in[y0 * s.w + x0];
        int32_t at = y0 * s.w + x0;
        for (int ky = 0; ky < s.kh; ++ky)
          for (int kx = 0; kx < s.kw; ++kx) {
            const int idx = (y0 + ky) * s.w + x0 + kx;
            if (in[idx] > best) { best = in[idx]; at = idx; }
          }
        o[oy * wo + ox] = best;
        am[oy * wo + ox] = at;
      }
  });
}

static void maxPool2dBackward(Context& ctx, const float* dy, const int32_t* argmax, float* dx, const PoolShape& s) {
  const int ho = s.hOut(), wo = s.wOut();
  perPlane(ctx, s, [&](int pl) {
    float* d = dx + i64(pl) * s.h * s.w;
    std::memset(d, 0, sizeof(float) * s.h * s.w);
    const float* g = dy + i64(pl) * ho * wo;
    const int32_t* am = argmax + i64(pl) * ho * wo;
    for (int i = 0; i < ho * wo; ++i) d[am[i]] += g[i];
  });
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
