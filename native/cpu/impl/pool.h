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
        for (int ox = 0; ox < wo; ++ox) {
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
