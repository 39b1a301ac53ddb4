// Direct 3x3 stride-1 convolution of single-channel inputs (the seed CNN's conv1, 1 -> 32 channels),
// forward and weight gradient. Through im2col + GEMM its K is 9: every C tile of the GEMM is
// stored after only nine rank-1 updates, and each image's column matrix (9 x P) is built and then
// packed again before the GEMM reads it. Here each image is zero-padded once and every output
// vector is nine FMAs on shifted loads of the padded plane; the weight gradient is ten vector dot
// products per output channel (nine taps and the bias) in one read of dy, where im2col + GEMM
// also read dy a second time for the bias.
// Orders: an output is ((w0·x0 + w1·x1 + w2·x2) + (w3·x3 + … + w5·x5)) + (w6·x6 + … + w8·x8) (each
// kernel row's taps in kx order), + bias, then ReLU. The weight
// gradient sums images in a fixed number of groups (as conv2dBackwardWeight), each group's images
// and vector lanes in a fixed order, the groups in group order: no result depends on the threads.
#pragma once

namespace INKLING_NS {

#if INKLING_VEC
/** Row stride of the zero-padded plane: the w + 2·pad columns, then zeros up to where the last
 *  (partial) output vector's taps reach, so that every load of x is a whole vector and the lanes
 *  past a row read zeros, never the next row's values (AVX2's masked loads cost conv1's weight
 *  gradient more than its full vectors did). */
static inline int directPaddedStride(const ConvShape& s) {
  return std::max(s.w + 2 * s.pad, (s.wOut() + VL - 1) / VL * VL + s.kw - 1);
}

/** Floats of one zero-padded plane, plus a vector of slack. */
static inline size_t directPaddedSize(const ConvShape& s) {
  return size_t(s.h + 2 * s.pad) * directPaddedStride(s) + VL;
}

static void padPlane(const float* x, const ConvShape& s, float* padded) {
  const int Wp = directPaddedStride(s);
  std::memset(padded, 0, sizeof(float) * directPaddedSize(s));
  for (int iy = 0; iy < s.h; ++iy) std::memcpy(padded + (iy + s.pad) * Wp + s.pad, x + i64(iy) * s.w, sizeof(float) * s.w);
}

/** The forward pass, each image's output where `sink` says (winograd.h's ConvOutputSink). */
template <class Sink>
static void directSingleChannelForwardInto(Context& ctx, const float* x, const float* w, const float* bias,
                                           const ConvShape& s, bool relu, const Sink& sink) {
  const int hOut = s.hOut(), wOut = s.wOut(), Wp = directPaddedStride(s), threads = ctx.pool.size();
  const i64 outPlane = i64(hOut) * wOut;
  // Output channels are split too when there are fewer images than threads (batch-1 inference).
  const int groups = s.n >= 2 * threads ? 1 : std::min(s.cOut, (2 * threads + s.n - 1) / s.n);
  ctx.pool.run(s.n * groups, [&](int task, int thread) {
    const int img = task / groups, grp = task % groups;
    const int c0 = s.cOut * grp / groups, c1 = s.cOut * (grp + 1) / groups;
    float* padded = ctx.perThread[thread].tile.floats(directPaddedSize(s));
    padPlane(x + i64(img) * s.h * s.w, s, padded);
    float* image = sink.image(img, thread);
    // Stores run in address order, so a row's last partial vector may be stored whole: its spill
    // lands on outputs this task writes later (AVX2 has no cheap masked store), unless it would
    // pass the end of the task's channels.
    const float* rangeEnd = image + i64(c1) * outPlane;
    for (int co = c0; co < c1; ++co) {
      vf wk[9];
      for (int k = 0; k < 9; ++k) wk[k] = vset1(w[co * 9 + k]);
      const vf b = vset1(bias ? bias[co] : 0.f), zero = vzero();
      float* o = image + i64(co) * outPlane;
      // One kernel row's three taps: its own FMA chain, so that a pair of output rows keeps six
      // independent chains in flight (one chain of nine FMAs per output waited on its latency).
      const auto taps = [&](const float* r, int k) {
        return vfmadd(wk[k + 2], vload(r + 2), vfmadd(wk[k + 1], vload(r + 1), vmul(wk[k], vload(r))));
      };
      const auto finish = [&](vf top, vf mid, vf bottom) {
        const vf v = vadd(vadd(vadd(top, mid), bottom), b);
        return relu ? vmax(v, zero) : v;
      };
      int oy = 0;
      for (; oy + 2 <= hOut; oy += 2) {
        const float* r0 = padded + oy * Wp;
        const float* r1 = r0 + Wp;
        const float* r2 = r1 + Wp;
        const float* r3 = r2 + Wp;
        float* upper = o + oy * wOut;
        float* lower = upper + wOut;
        for (int ox = 0; ox < wOut; ox += VL) {
          const vf u = finish(taps(r0 + ox, 0), taps(r1 + ox, 3), taps(r2 + ox, 6));
          const vf l = finish(taps(r1 + ox, 0), taps(r2 + ox, 3), taps(r3 + ox, 6));
          const int n = std::min(VL, wOut - ox);
          // the upper row's spill would land on the lower row's outputs stored already
          vstoreN(upper + ox, u, n);
          if (lower + ox + VL <= rangeEnd) vstore(lower + ox, l);
          else vstoreN(lower + ox, l, n);
        }
      }
      for (; oy < hOut; ++oy) {
        const float* r0 = padded + oy * Wp;
        for (int ox = 0; ox < wOut; ox += VL) {
          const vf v = finish(taps(r0 + ox, 0), taps(r0 + Wp + ox, 3), taps(r0 + 2 * Wp + ox, 6));
          float* dst = o + oy * wOut + ox;
          if (dst + VL <= rangeEnd) vstore(dst, v);
          else vstoreN(dst, v, std::min(VL, wOut - ox));
        }
      }
    }
    sink.done(img, c0, c1, thread, image);
  });
}


/** dw (+)= Σ_images dy ⋆ x, db (+)= Σ dy, in one pass over dy. */
static void directSingleChannelBackwardWeight(Context& ctx, const float* x, const float* dy, float* dw, float* db,
                                              const ConvShape& s, bool accumulate) {
  const int hOut = s.hOut(), wOut = s.wOut(), Wp = directPaddedStride(s), C = s.cOut;
  const i64 outPlane = i64(hOut) * wOut;
  const int groups = std::max(1, std::min(s.n, 8));
  const size_t padSize = directPaddedSize(s);
  float* partials = ctx.partials.floats(size_t(groups) * C * 10);  // [group][co][9 taps, bias]
  ctx.pool.run(groups, [&](int g, int thread) {
    const int i0 = s.n * g / groups, i1 = s.n * (g + 1) / groups;
    // The group's padded images (16 of conv1's at batch 128: 58 KB) stay in L2 while every
    // output channel's dy streams past them.
    float* padded = ctx.perThread[thread].columns.floats(padSize * std::max(1, i1 - i0));
    for (int img = i0; img < i1; ++img) padPlane(x + i64(img) * s.h * s.w, s, padded + (img - i0) * padSize);
    for (int co = 0; co < C; ++co) {
      vf acc[10];
      for (int k = 0; k < 10; ++k) acc[k] = vzero();
      for (int img = i0; img < i1; ++img) {
        const float* xp = padded + (img - i0) * padSize;
        const float* d = dy + (i64(img) * C + co) * outPlane;
        for (int oy = 0; oy < hOut; ++oy) {
          const float* r[3] = {xp + oy * Wp, xp + (oy + 1) * Wp, xp + (oy + 2) * Wp};
          for (int ox = 0; ox < wOut; ox += VL) {
            const int n = std::min(VL, wOut - ox);
            // Past the row, g's lanes are zero and x's read the padded plane's zero columns (not
            // the next row's values, which may be infinite: inf · 0 would poison the sums).
            const vf g = n == VL ? vload(d + oy * wOut + ox) : vloadN(d + oy * wOut + ox, n);
            for (int ky = 0; ky < 3; ++ky)
              for (int kx = 0; kx < 3; ++kx) acc[ky * 3 + kx] = vfmadd(g, vload(r[ky] + ox + kx), acc[ky * 3 + kx]);
            acc[9] = vadd(acc[9], g);
          }
        }
      }
      float* part = partials + (size_t(g) * C + co) * 10;
      for (int k = 0; k < 10; ++k) part[k] = vsum(acc[k]);
    }
  });
  for (int co = 0; co < C; ++co)
    for (int k = 0; k < 10; ++k) {
      float sum = 0.f;
      for (int g = 0; g < groups; ++g) sum += partials[(size_t(g) * C + co) * 10 + k];
      if (k < 9) dw[co * 9 + k] = accumulate ? dw[co * 9 + k] + sum : sum;
      else if (db) db[co] = accumulate ? db[co] + sum : sum;
    }
}
#endif

}  // namespace INKLING_NS
